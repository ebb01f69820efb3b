# accepted: sort and two pointers, O(n log n); prints another pair than the jury's
import sys

data = sys.stdin.buffer.read().split()
n, t = int(data[0]), int(data[1])
a = sorted((int(x), i + 1) for i, x in enumerate(data[2 : 2 + n]))
lo, hi = 0, n - 1
while lo < hi:
    s = a[lo][0] + a[hi][0]
    if s == t:
        i, j = sorted((a[lo][1], a[hi][1]))
        print(i, j)
        break
    if s < t:
        lo += 1
    else:
        hi -= 1
else:
    print(-1)
