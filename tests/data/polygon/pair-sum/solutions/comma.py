# presentation-error: the right pair, printed as "i,j"
import sys

data = sys.stdin.read().split()
n, t = int(data[0]), int(data[1])
seen = {}
for j, x in enumerate(map(int, data[2 : 2 + n]), 1):
    if t - x in seen:
        print(f"{seen[t - x]},{j}")
        break
    seen.setdefault(x, j)
else:
    print(-1)
