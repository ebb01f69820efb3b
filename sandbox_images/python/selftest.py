"""Self-test program: must be ACCEPTED before the server reports SERVING.

It is scored through the whole path (pool, runner, zygote, program server,
driver, grader) with one test of each kind; see rlce_server/runtimes.
"""


def add(a, b):
    return a + b


if __name__ == "__main__":
    import sys

    x, y = map(int, sys.stdin.read().split())
    print(add(x, y))
