// time-limit-exceeded: every pair, O(n^2)
#include <bits/stdc++.h>
int main() {
    int n; long long t;
    scanf("%d %lld", &n, &t);
    std::vector<long long> a(n + 1);
    for (int i = 1; i <= n; i++) scanf("%lld", &a[i]);
    for (int i = 1; i <= n; i++)
        for (int j = i + 1; j <= n; j++)
            if (a[i] + a[j] == t) { printf("%d %d\n", i, j); return 0; }
    puts("-1");
}
