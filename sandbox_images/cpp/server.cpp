// rlce's program-side server for C++ split assertion tests
// (docs/SPLIT_TESTS.md); the program's process, candidate uid. Prebuilt
// (server.o) and linked with dispatch.cpp (the program's source and its
// generated dispatch table) with -Wl,--wrap=main: the C runtime calls
// __wrap_main here, never the program's own main.
//
// It answers the test's requests on fd 3, one frame each, until end of
// file, then exits 0. Nothing here is trusted by the test: the test
// validates every reply, so this side only aims at serving honest programs
// well (an exception becomes a "raised" reply, not a crash).
#include <cxxabi.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rlce_wire.hpp"
#include "rlce_server.hpp"

namespace {
constexpr int channel_fd = 3;

// false at end of file (or any error: the test is gone either way)
bool read_exact(char *p, std::size_t n) {
    while (n > 0) {
        ssize_t got = recv(channel_fd, p, n, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        p += got;
        n -= std::size_t(got);
    }
    return true;
}

bool write_all(const char *p, std::size_t n) {
    while (n > 0) {
        ssize_t put = send(channel_fd, p, n, MSG_NOSIGNAL);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return false;
        p += put;
        n -= std::size_t(put);
    }
    return true;
}

void raised(rlce::writer &w, const std::string &message) {
    w.clear();
    w.count('t', 2);
    w.str("raised", 6);
    w.str(message.data(), message.size() > 4096 ? 4096 : message.size());
}

// The reply to one request frame, in w.
void answer(const std::string &frame, rlce::writer &w) {
    rlce::reader r(rlce::bytes{frame.data(), frame.size()});
    if (r.open('t', "expected a request tuple", 1, 0) != 4) r.bad("a request has four fields");
    rlce::bytes op = r.str("expected the operation");
    rlce::bytes sig = r.str("expected the function");
    r.i64("expected the handle");
    if (std::string_view(op.data, op.size) != "call") return raised(w, "unsupported operation");
    for (const rlce::entry *e = rlce::entries; e->sig; ++e) {
        if (std::string_view(sig.data, sig.size) != e->sig) continue;
        w.clear();
        w.count('t', 2);
        w.str("ok", 2);
        try {
            e->serve(r, w);  // ends the request: its argument list is the last field
        } catch (const std::exception &x) {
            return raised(w, x.what());
        } catch (...) {
            return raised(w, "an exception that is not a std::exception");
        }
        if (w.size > rlce::max_frame) raised(w, "the return value is larger than the 16 MiB frame limit");
        return;
    }
    raised(w, "the program build has no function " + std::string(sig.data, sig.size));
}
}  // namespace

namespace rlce {
void fail(int code, const char *why, const char *detail) {
    std::string line = std::string("\nrlce: ") + why + detail + "\n";
    (void)!write(2, line.data(), line.size());
    _exit(code);
}

void value_too_large(const char *what) { unsupported_value(what, nullptr); }

void unsupported_value(const char *what, const char *mangled_type) {
    std::string message = std::string("the return value holds ") + what;
    if (mangled_type) {
        int status = 0;
        char *s = abi::__cxa_demangle(mangled_type, nullptr, nullptr, &status);
        message += std::string(" holding ") + (status == 0 && s ? s : mangled_type);
        free(s);
    }
    throw std::runtime_error(message + ", which the wire cannot carry");
}
}  // namespace rlce

extern "C" int __wrap_main(int, char **, char **) {
    signal(SIGPIPE, SIG_IGN);
    std::string frame;
    rlce::writer w;
    for (;;) {
        unsigned char hdr[4];
        if (!read_exact(reinterpret_cast<char *>(hdr), 4)) break;
        std::uint32_t n = (std::uint32_t(hdr[0]) << 24) | (std::uint32_t(hdr[1]) << 16) | (std::uint32_t(hdr[2]) << 8) | hdr[3];
        if (n > rlce::max_frame) rlce::fail(rlce::exit_malformed, "request frame larger than 16 MiB");
        frame.assign(n, '\0');
        if (!read_exact(frame.data(), n)) break;
        answer(frame, w);
        rlce::clear_kept();
        std::uint32_t m = std::uint32_t(w.size);
        unsigned char len[4] = {(unsigned char)(m >> 24), (unsigned char)(m >> 16), (unsigned char)(m >> 8), (unsigned char)m};
        if (!write_all(reinterpret_cast<const char *>(len), 4) || !write_all(w.data, w.size)) break;
    }
    exit(0);  // the program's stdio is flushed and its atexit handlers run, as after its own main
}
