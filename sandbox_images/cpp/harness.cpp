// rlce's harness for C++ assertion tests; see docs/SECURITY.md, "Compiled runtimes".
//
// Linked first, with -Wl,--wrap=main: the C runtime calls __wrap_main here,
// which calls the test's own main (__real_main). The runner's nonce arrives on
// fd 3 and is read from .preinit_array, before any constructor of the program
// runs; a program that read it first leaves it empty, and the harness refuses
// to go on. The nonce goes back on fd 4 only once the test's main has
// returned 0: a constructor calling _exit(0), a destructor printing a banner
// or a crash never produce it.
#include <unistd.h>

extern "C" int __real_main(int, char **, char **);

namespace {
char nonce[64];
long nonce_len = -1;

void take_nonce(int, char **, char **) {
    long n = 0;
    while (n < static_cast<long>(sizeof nonce)) {
        long got = read(3, nonce + n, sizeof nonce - n);
        if (got <= 0) break;
        n += got;
    }
    close(3);
    nonce_len = n;
}
}  // namespace

__attribute__((section(".preinit_array"), used)) static void (*rlce_preinit)(int, char **, char **) = take_nonce;

extern "C" int __wrap_main(int argc, char **argv, char **envp) {
    if (nonce_len != 32) _exit(111);  // someone read it before the harness did
    int rc = __real_main(argc, argv, envp);
    if (rc == 0) {
        long off = 0;
        while (off < nonce_len) {
            long put = write(4, nonce + off, nonce_len - off);
            if (put <= 0) break;
            off += put;
        }
    }
    close(4);
    return rc;
}
