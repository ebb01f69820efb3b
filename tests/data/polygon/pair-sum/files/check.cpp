// Checker of "Pair sum": any pair i < j with a_i + a_j = t is right.
#include "testlib.h"
#include <vector>

int main(int argc, char* argv[]) {
    registerTestlibCmd(argc, argv);
    int n = inf.readInt();
    long long t = inf.readLong();
    std::vector<long long> a(n + 1);
    for (int i = 1; i <= n; i++) a[i] = inf.readLong();

    auto read_pair = [&](InStream& s, const char* who) -> std::pair<int, int> {
        int i = s.readInt(-1, n, "i");
        if (i == -1) return {-1, -1};
        int j = s.readInt(1, n, "j");
        if (i < 1) s.quitf(_wa, "%s: index %d out of range", who, i);
        if (i >= j) s.quitf(_wa, "%s: expected i < j, found %d %d", who, i, j);
        if (a[i] + a[j] != t) s.quitf(_wa, "%s: a[%d] + a[%d] = %lld, not %lld", who, i, j, a[i] + a[j], t);
        return {i, j};
    };
    auto jury = read_pair(ans, "jury");
    auto found = read_pair(ouf, "participant");
    if (!ouf.seekEof()) quitf(_pe, "extra output after the answer");
    if (jury.first == -1 && found.first != -1) quitf(_fail, "the participant found a pair the jury did not");
    if (jury.first != -1 && found.first == -1) quitf(_wa, "a pair exists, the participant printed -1");
    if (found.first == -1) quitf(_ok, "no pair");
    quitf(_ok, "a[%d] + a[%d] = %lld", found.first, found.second, t);
}
