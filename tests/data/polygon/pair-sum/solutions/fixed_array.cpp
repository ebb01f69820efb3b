// rejected: a fixed array of 1000 elements; the large test overruns it
#include <cstdio>
int a[1000];
int main() {
    int n, t;
    scanf("%d %d", &n, &t);
    for (int i = 1; i <= n; i++) scanf("%d", &a[i]);
    for (int i = 1; i <= n; i++)
        for (int j = i + 1; j <= n; j++)
            if (a[i] + a[j] == t) { printf("%d %d\n", i, j); return 0; }
    puts("-1");
}
