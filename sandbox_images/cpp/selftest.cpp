// rlce's C++ self-test program. Its main is weak so that the assertion
// self-test's own main replaces it (a program's weak symbols never override
// the test's).
#include <iostream>

int add(int a, int b) { return a + b; }

__attribute__((weak)) int main() {
    int a, b;
    std::cin >> a >> b;
    std::cout << add(a, b) << "\n";
}
