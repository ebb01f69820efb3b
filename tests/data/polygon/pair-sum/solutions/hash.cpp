// main: one pass with a hash map, O(n)
#include <bits/stdc++.h>
int main() {
    int n; long long t;
    scanf("%d %lld", &n, &t);
    std::unordered_map<long long, int> seen;
    seen.reserve(2 * n);
    for (int j = 1; j <= n; j++) {
        long long x; scanf("%lld", &x);
        auto it = seen.find(t - x);
        if (it != seen.end()) { printf("%d %d\n", it->second, j); return 0; }
        seen.emplace(x, j);
    }
    puts("-1");
}
