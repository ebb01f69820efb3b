// rlce's codec for std::any and boost::any (rlce_wire.hpp), prebuilt once
// (wire_any.o, linked on both sides): instantiating it for the ~20 held
// types of the registry is the costliest template code of the wire, and
// one prebuilt registry means both sides agree on it.
#include <any>
#include <string>
#include <typeinfo>
#include <vector>

#include <boost/any.hpp>

#include "rlce_wire.hpp"

namespace rlce {

namespace {
template <class Any>
struct ops;
template <>
struct ops<std::any> {
    static constexpr const char* name = "std::any";
    static bool empty(const std::any& a) { return !a.has_value(); }
    template <class T>
    static const T* get(const std::any& a) { return std::any_cast<T>(&a); }
};
template <>
struct ops<boost::any> {
    static constexpr const char* name = "boost::any";
    static bool empty(const boost::any& a) { return a.empty(); }
    template <class T>
    static const T* get(const boost::any& a) { return boost::any_cast<T>(&a); }
};

// The held types that cross (by their wire names).
template <class Any>
using registry = type_list<bool, char, signed char, unsigned char, short, unsigned short, int, unsigned int, long,
                           unsigned long, long long, unsigned long long, float, double, long double, const char*,
                           std::string, std::vector<int>, std::vector<long>, std::vector<long long>,
                           std::vector<double>, std::vector<std::string>, std::vector<Any>>;

template <class Any, class... T>
bool put_held(writer& w, const Any& a, type_list<T...>) {
    auto put = [&](auto held) {
        using H = typename decltype(held)::type;
        type_name n;
        wire<H>::name(n);
        w.tag('A');
        w.str(n.text, n.size);
        wire<H>::put(w, *ops<Any>::template get<H>(a));
        return true;
    };
    return ((a.type() == typeid(T) ? put(tag<T>{}) : false) || ...);
}

template <class Any, class... T>
bool get_held(reader& r, bytes held, Any& out, type_list<T...>) {
    auto take = [&](auto t) {
        using H = typename decltype(t)::type;
        type_name n;
        wire<H>::name(n);
        if (!(n == held)) return false;
        out = Any(wire<H>::get(r));
        return true;
    };
    return (take(tag<T>{}) || ...);
}
}  // namespace

template <class Any>
void any_wire<Any>::name(type_name& n) {
    n << ops<Any>::name;
}

template <class Any>
void any_wire<Any>::put(writer& w, const Any& a) {
    if (ops<Any>::empty(a)) return w.null();
    if (!put_held(w, a, registry<Any>{})) unsupported_value(ops<Any>::name, a.type().name());
}

template <class Any>
Any any_wire<Any>::get(reader& r) {
    if (r.peek() == 'N') {
        r.tag();
        return Any();
    }
    r.enter('A', "expected a dynamically typed value");
    bytes held = r.str("expected the held type's name");
    Any out;
    if (!get_held(r, held, out, registry<Any>{})) r.bad("unknown type name in a dynamically typed value");
    r.close();
    return out;
}

template struct any_wire<std::any>;
template struct any_wire<boost::any>;

}  // namespace rlce
