// rlce's C++ self-test program. The stdio self-test runs its main; in the
// assertion self-test its main never runs: the program build serves the
// test's calls of add() in its place (server.cpp, docs/SPLIT_TESTS.md).
#include <iostream>

int add(int a, int b) { return a + b; }

int main() {
    int a, b;
    std::cin >> a >> b;
    std::cout << add(a, b) << "\n";
}
