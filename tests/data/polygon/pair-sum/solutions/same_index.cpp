// wrong-answer: finds x + x = t with one element used twice
#include <bits/stdc++.h>
int main() {
    int n; long long t;
    scanf("%d %lld", &n, &t);
    std::unordered_map<long long, int> at;
    std::vector<long long> a(n + 1);
    for (int i = 1; i <= n; i++) { scanf("%lld", &a[i]); at[a[i]] = i; }
    for (int i = 1; i <= n; i++) {
        auto it = at.find(t - a[i]);
        if (it != at.end()) { int j = it->second; printf("%d %d\n", std::min(i, j), std::max(i, j)); return 0; }
    }
    puts("-1");
}
