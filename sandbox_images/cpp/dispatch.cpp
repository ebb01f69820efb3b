// rlce's program-side translation unit for a C++ split assertion test
// (docs/SPLIT_TESTS.md). The program's source comes first, exactly as the
// candidate wrote it (nothing is included before it, so its overload
// resolution is its own); then every identifier the code below uses is
// #undef'd (a program's `#define int long long` stays in the program); then
// the test build's needs list (needs.txt: the functions the test calls, with
// the types the test declared, from a closed grammar) is read twice: for
// the headers its types need, and for one dispatch entry per function.
#include "program.cpp"

#include "/opt/rlce/runtime/rlce_undef.h"

#define RLCE_PART 0
#include "needs.txt"
#undef RLCE_PART

#include "/opt/rlce/runtime/rlce_server.hpp"

// RLCE_NEED(id, name, "signature", R(P...)): the program's `name`, called with
// the arguments decoded as P... (lvalues, so that by-value, const& and &
// parameters all bind; rvalues where the test declared P&&).
#define RLCE_PART 1
#define RLCE_NEED(id, name, sig, ...)                          \
    struct rlce_fn_##id {                                      \
        template <class... A>                                  \
        static decltype(auto) call(A&&... a) {                 \
            return ::name(static_cast<A&&>(a)...);             \
        }                                                      \
    };
#include "needs.txt"
#undef RLCE_NEED

#define RLCE_NEED(id, name, sig, ...) {sig, &::rlce::server<rlce_fn_##id, __VA_ARGS__>::serve},
const ::rlce::entry rlce::entries[] = {
#include "needs.txt"
    {nullptr, nullptr}};
