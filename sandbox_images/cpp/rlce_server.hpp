// Program side of rlce's C++ split tests: the generic dispatcher that
// dispatch.cpp instantiates once per function of the test's needs list.
#ifndef RLCE_SERVER_HPP
#define RLCE_SERVER_HPP

#include "rlce_wire.hpp"

namespace rlce {

struct entry {
    const char* sig;  // the test's canonical signature, e.g. "add(int,int)"
    void (*serve)(reader& args, writer& reply);
};
extern const entry entries[];  // dispatch.cpp; ends with {nullptr, nullptr}

// The decoded arguments, one base per argument (aggregate-initialised from a
// braced list: decoded left to right).
template <std::size_t I, class T>
struct arg_slot {
    T value;
};
template <class Seq, class... T>
struct arg_pack;
template <std::size_t... I, class... T>
struct arg_pack<index_seq<I...>, T...> : arg_slot<I, T>... {};

// An argument as the program's function receives it: an rvalue where the
// test declared P&&, else an lvalue (so by-value, const& and & all bind).
template <class P, class T>
decltype(auto) pass(T& v) {
    if constexpr (std::is_rvalue_reference_v<P>)
        return static_cast<T&&>(v);
    else
        return (v);
}

// Fn::call(a...) calls the program's function (overload resolution against
// the program's own declarations); F is the test's declared type R(P...).
template <class Fn, class F>
struct server;

template <class Fn, class R, class... P>
struct server<Fn, R(P...)> {
    using Ret = std::remove_cv_t<R>;
    using Seq = typename make_seq<sizeof...(P)>::type;
    using Pack = arg_pack<Seq, std::decay_t<P>...>;

    // The test's return type when the program's converts to it implicitly
    // (int -> long, const char* -> std::string), else the program's own
    // type, which the test may still decode (std::vector<int> as
    // std::vector<long>: the test checks every element's range).
    template <class V>
    static void reply(writer& w, V&& v) {
        using Got = std::remove_cv_t<std::remove_reference_t<V>>;
        if constexpr (std::is_void_v<R>) {
            w.null();
        } else if constexpr (carried<Ret> && std::is_convertible_v<V&&, Ret>) {
            wire<Ret>::put(w, static_cast<Ret>(static_cast<V&&>(v)));
        } else {
            static_assert(carried<Got>, "rlce: the function returns a type the value wire cannot carry");
            wire<Got>::put(w, v);
        }
    }

    template <std::size_t... I>
    static void call(Pack& args, writer& w, index_seq<I...>) {
        using Got = decltype(Fn::call(pass<P>(static_cast<arg_slot<I, std::decay_t<P>>&>(args).value)...));
        if constexpr (std::is_void_v<Got>) {
            Fn::call(pass<P>(static_cast<arg_slot<I, std::decay_t<P>>&>(args).value)...);
            w.null();
        } else {
            reply(w, Fn::call(pass<P>(static_cast<arg_slot<I, std::decay_t<P>>&>(args).value)...));
        }
    }

    static void serve(reader& r, writer& w) {
        if (r.open('l', "expected the argument list", 1, 0) != sizeof...(P)) r.bad("wrong number of arguments");
        Pack args{{wire<std::decay_t<P>>::get(r)}...};
        r.close();
        r.finish();
        call(args, w, Seq{});
    }
};

}  // namespace rlce

#endif  // RLCE_SERVER_HPP
