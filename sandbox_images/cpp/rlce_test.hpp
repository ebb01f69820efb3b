// Test side of rlce's C++ split tests: what the generated stubs call.
//
// testgen.py defines, in a translation unit of its own, one stub per program
// function the test calls: the stub sends the call over the value channel
// and decodes the program's reply as the type the test declared. Calls and
// the reply's envelope are in harness.cpp (prebuilt); only the type-directed
// parts are templates.
#ifndef RLCE_TEST_HPP
#define RLCE_TEST_HPP

#include "rlce_wire.hpp"

namespace rlce {

// harness.cpp: start a request `t[s "call", s sig, i 0, l <nargs> ...]`.
void begin_call(writer& w, const char* sig, std::size_t nargs);
// harness.cpp: send the request, read the reply and return an "ok" reply's
// value (valid until the next call). A "raised" reply, a closed channel or
// a malformed envelope end the test (115, 116, 112).
bytes round_trip(const writer& request);
[[noreturn]] void unsupported_return(const char* sig);

template <class R, class... P>
R call(const char* sig, const P&... args) {
    writer w;
    begin_call(w, sig, sizeof...(P));
    (wire<P>::put(w, args), ...);
    reader r(round_trip(w));
    r.depth = 1;  // inside the reply's tuple
    if constexpr (std::is_void_v<R>) {
        r.expect('N', "expected null from a void function");
        r.finish();
    } else if constexpr (carried<R>) {
        std::remove_cv_t<R> v = wire<std::remove_cv_t<R>>::get(r);
        r.finish();
        return v;
    } else {
        unsupported_return(sig);  // testgen.py refuses these before the test runs
    }
}

}  // namespace rlce

#endif  // RLCE_TEST_HPP
