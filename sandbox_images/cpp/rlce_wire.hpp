// rlce's value wire, version 1 (docs/SPLIT_TESTS.md), for C++ split assertion tests.
//
// Both processes use it: the test (judge uid) encodes the arguments of a call
// and decodes the program's reply; the program's server decodes the arguments
// and encodes the reply. Marshalling is type-directed and generic over
// compositions: rlce::wire<T> is defined (ok == true) exactly for the types
// the wire carries, and the decoder of T accepts only the tags that fit T,
// with strict bounds (no trailing bytes, depth <= 100, counts never larger
// than the bytes left, a budget on what one frame may make a decoder
// allocate). The byte level (writer, reader) is prebuilt: wire.cpp.
//
// Cheap to include after a program: the core needs only <cstddef>,
// <cstdint> and <type_traits>, and declares only class templates (nothing is
// instantiated until a type is used). Every standard type is supported by
// a section switched on by that type's own header guard, so no header the
// program did not include is pulled in (it would cost compile time, and an
// early header could change the program's overload resolution). The file is
// included again after the test's or the program's source, to pick up what
// it included (each section once: RLCE_WIRE_<type>).
//
// It defines only names in namespace rlce and macros named RLCE_*; generated
// code that includes it after someone else's source first #undefs every
// identifier used here (rlce_undef.h).
#ifndef RLCE_WIRE_HPP
#define RLCE_WIRE_HPP

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace rlce {

constexpr std::uint32_t max_frame = 16u << 20;       // bytes of one frame's body
constexpr int max_depth = 100;                       // nested compound values
constexpr std::uint64_t decode_budget = 256u << 20;  // bytes one frame may make a decoder allocate

constexpr int exit_malformed = 112;
constexpr int exit_unsupported = 113;
constexpr int exit_value_limit = 117;  // a value too large to carry, found at run time

struct bytes {
    const char* data;
    std::size_t size;
};

// Side-specific (harness.cpp for the test, server.cpp for the program).
// fail: "rlce: <why><detail>" as stderr's last line, then _exit(code).
[[noreturn]] void fail(int code, const char* why, const char* detail = "");
// A value the wire cannot carry was about to be encoded (a boost::any holding
// an unregistered type): the test exits 113, the program raises.
[[noreturn]] void unsupported_value(const char* what, const char* mangled_type = nullptr);
// A value past the wire's size limits was about to be encoded. Its type was carriable (the test
// build checked), so the value came from the program's calls or is one the program cannot take:
// the test exits 117 (the program's RUNTIME_ERROR, never the caller's 113), the program raises.
[[noreturn]] void value_too_large(const char* what);

// wire.cpp: a decoded `const char*` / `std::string_view` points into an
// arena (NUL-terminated copies). The test never clears it (a returned
// pointer stays valid); the server clears it after each reply.
const char* keep(bytes b);
void clear_kept();

// A wire type name (`A` values), built by appending; bounded (longer names are cut).
struct type_name {
    char text[1024];
    std::size_t size = 0;
    type_name& operator<<(const char* s);
    type_name& operator<<(std::size_t n);
    bool operator==(bytes b) const;
};

struct writer {
    char* data = nullptr;
    std::size_t size = 0, cap = 0;
    writer() = default;
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;
    ~writer();
    void clear() { size = 0; }
    void append(const void* p, std::size_t n);
    void tag(char t);
    void u32(std::uint32_t v);
    void i64(std::int64_t v);
    void f64(double d);
    void count(char t, std::size_t n);  // a compound value's tag and count
    void str(const char* p, std::size_t n);
    void null();
};

struct reader {
    const unsigned char* p;
    const unsigned char* end;
    int depth = 0;
    std::uint64_t budget = decode_budget;

    reader(bytes b);
    [[noreturn]] void bad(const char* what) const;  // exit 112
    std::size_t left() const { return std::size_t(end - p); }
    unsigned char peek() const;
    unsigned char tag();
    void expect(char t, const char* what);
    std::uint32_t u32();
    std::int64_t i64(const char* what);
    double f64(const char* what);
    bytes str(const char* what);
    // A compound value with a count: its tag, the count (each element takes
    // at least `min_bytes` of the frame; `element_size` bytes are charged to
    // the budget per element), one level deeper.
    std::uint32_t open(char t, const char* what, std::size_t min_bytes, std::size_t element_size);
    // A compound value without a count (`A`), one level deeper.
    void enter(char t, const char* what);
    void close() { --depth; }
    void finish() const;  // no trailing bytes
};

// --- wire<T> ---------------------------------------------------------------------------------

template <class T, class = void>
struct wire {
    static constexpr bool ok = false;
};

template <class T>
constexpr bool carried = wire<std::remove_cv_t<T>>::ok;

// Scalars: i (integers, range-checked; 64-bit unsigned types carry their two's
// complement bits), b (bool: T/F), c (characters: u32; a char is its byte
// value), d (floating point).
template <class T> struct scalar { static constexpr char kind = 0; };
#define RLCE_SCALAR(type, k, spelled)                    \
    template <> struct scalar<type> {                   \
        static constexpr char kind = k;                 \
        static constexpr const char* name = spelled;    \
    };
RLCE_SCALAR(bool, 'b', "bool")
RLCE_SCALAR(char, 'c', "char")
RLCE_SCALAR(wchar_t, 'c', "wchar_t")
RLCE_SCALAR(char16_t, 'c', "char16_t")
RLCE_SCALAR(char32_t, 'c', "char32_t")
RLCE_SCALAR(signed char, 'i', "signed char")
RLCE_SCALAR(unsigned char, 'i', "unsigned char")
RLCE_SCALAR(short, 'i', "short")
RLCE_SCALAR(unsigned short, 'i', "unsigned short")
RLCE_SCALAR(int, 'i', "int")
RLCE_SCALAR(unsigned int, 'i', "unsigned int")
RLCE_SCALAR(long, 'i', "long")
RLCE_SCALAR(unsigned long, 'i', "unsigned long")
RLCE_SCALAR(long long, 'i', "long long")
RLCE_SCALAR(unsigned long long, 'i', "unsigned long long")
RLCE_SCALAR(float, 'd', "float")
RLCE_SCALAR(double, 'd', "double")
RLCE_SCALAR(long double, 'd', "long double")
#undef RLCE_SCALAR

template <class T>
struct wire<T, std::enable_if_t<scalar<T>::kind != 0>> {
    static constexpr bool ok = true;
    static constexpr char kind = scalar<T>::kind;
    static void name(type_name& n) { n << scalar<T>::name; }
    static void put(writer& w, T v) {
        if constexpr (kind == 'b') {
            w.tag(v ? 'T' : 'F');
        } else if constexpr (kind == 'i') {
            w.i64(static_cast<std::int64_t>(v));
        } else if constexpr (kind == 'd') {
            w.f64(static_cast<double>(v));
        } else {
            w.tag('c');
            w.u32(std::is_same_v<T, char> ? std::uint32_t(static_cast<unsigned char>(v)) : std::uint32_t(v));
        }
    }
    static T get(reader& r) {
        if constexpr (kind == 'b') {
            unsigned char t = r.tag();
            if (t != 'T' && t != 'F') r.bad("expected a boolean");
            return t == 'T';
        } else if constexpr (kind == 'i') {
            std::int64_t v = r.i64("expected an integer");
            if constexpr (sizeof(T) < 8) {
                constexpr int bits = 8 * int(sizeof(T));
                constexpr std::int64_t lo = std::is_signed_v<T> ? -(std::int64_t(1) << (bits - 1)) : 0;
                constexpr std::int64_t hi = std::is_signed_v<T> ? (std::int64_t(1) << (bits - 1)) - 1
                                                                : (std::int64_t(1) << bits) - 1;
                if (v < lo || v > hi) r.bad("integer out of the range of its type");
            }
            return static_cast<T>(v);
        } else if constexpr (kind == 'd') {
            return static_cast<T>(r.f64("expected a floating-point number"));
        } else {
            r.expect('c', "expected a character");
            std::uint32_t v = r.u32();
            constexpr std::uint32_t max = std::is_same_v<T, char> ? 255u
                                          : sizeof(T) == 2        ? 0xffffu
                                          : std::is_signed_v<T>   ? 0x7fffffffu
                                                                  : 0xffffffffu;
            if (v > max) r.bad("character out of the range of its type");
            if constexpr (std::is_same_v<T, char>)
                return static_cast<char>(static_cast<unsigned char>(v));
            else
                return static_cast<T>(v);
        }
    }
};

// const char*: `s`, or `N` for a null pointer.
template <class T>
struct wire<T, std::enable_if_t<std::is_same_v<T, const char*>>> {
    static constexpr bool ok = true;
    static void name(type_name& n) { n << "const char*"; }
    static void put(writer& w, const char* v) {
        if (v == nullptr) return w.null();
        std::size_t n = 0;
        while (v[n]) ++n;
        w.str(v, n);
    }
    static const char* get(reader& r) {
        if (r.peek() == 'N') {
            r.tag();
            return nullptr;
        }
        return keep(r.str("expected a string or null"));
    }
};

template <class C, class = void>
struct reserves : std::false_type {};
template <class C>
struct reserves<C, std::void_t<decltype(static_cast<C*>(nullptr)->reserve(std::size_t(1)))>> : std::true_type {};

// Sequences: `l`.
template <class C, class T>
struct seq_wire {
    static constexpr bool ok = true;
    static void put(writer& w, const C& c) {
        w.count('l', c.size());
        for (const auto& x : c) wire<T>::put(w, x);
    }
    static C get(reader& r) {
        std::uint32_t n = r.open('l', "expected a list", 1, sizeof(T) + 16);
        C c;
        if constexpr (reserves<C>::value) c.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) c.push_back(wire<T>::get(r));
        r.close();
        return c;
    }
};

// Maps: `m`; sets: `S`. Unique containers refuse a duplicate key.
template <class C, class K, class V, bool Unique>
struct map_wire {
    static constexpr bool ok = true;
    static void put(writer& w, const C& c) {
        w.count('m', c.size());
        for (const auto& kv : c) {
            wire<K>::put(w, kv.first);
            wire<V>::put(w, kv.second);
        }
    }
    static C get(reader& r) {
        std::uint32_t n = r.open('m', "expected a map", 2, sizeof(K) + sizeof(V) + 32);
        C c;
        for (std::uint32_t i = 0; i < n; ++i) {
            K k = wire<K>::get(r);
            V v = wire<V>::get(r);
            std::size_t before = c.size();
            c.emplace(static_cast<K&&>(k), static_cast<V&&>(v));
            if (Unique && c.size() == before) r.bad("duplicate map key");
        }
        r.close();
        return c;
    }
};
template <class C, class K, bool Unique>
struct set_wire {
    static constexpr bool ok = true;
    static void put(writer& w, const C& c) {
        w.count('S', c.size());
        for (const auto& k : c) wire<K>::put(w, k);
    }
    static C get(reader& r) {
        std::uint32_t n = r.open('S', "expected a set", 1, sizeof(K) + 32);
        C c;
        for (std::uint32_t i = 0; i < n; ++i) {
            std::size_t before = c.size();
            c.insert(wire<K>::get(r));
            if (Unique && c.size() == before) r.bad("duplicate set element");
        }
        r.close();
        return c;
    }
};

// "prefix<A, B, ...>"
template <class... T>
void name_list(type_name& n, const char* prefix) {
    n << prefix << "<";
    const char* sep = "";
    ((n << sep, wire<T>::name(n), sep = ", "), ...);
    n << ">";
}

template <std::size_t... I>
struct index_seq {};
template <std::size_t N, std::size_t... I>
struct make_seq : make_seq<N - 1, N - 1, I...> {};
template <std::size_t... I>
struct make_seq<0, I...> {
    using type = index_seq<I...>;
};

template <class... T>
struct type_list {};
template <class T>
struct tag {
    using type = T;
};

}  // namespace rlce

#endif  // RLCE_WIRE_HPP

// --- standard types whose header the translation unit has seen -------------------------------

#if defined(_BASIC_STRING_H) && !defined(RLCE_WIRE_STRING)
#define RLCE_WIRE_STRING
namespace rlce {
template <class T>
struct wire<T, std::enable_if_t<std::is_same_v<T, std::string>>> {
    static constexpr bool ok = true;
    static void name(type_name& n) { n << "std::string"; }
    static void put(writer& w, const std::string& v) { w.str(v.data(), v.size()); }
    static std::string get(reader& r) {
        bytes b = r.str("expected a string");
        return std::string(b.data, b.size);
    }
};
}  // namespace rlce
#endif

#if defined(_GLIBCXX_STRING_VIEW) && !defined(RLCE_WIRE_STRING_VIEW)
#define RLCE_WIRE_STRING_VIEW
namespace rlce {
template <class T>
struct wire<T, std::enable_if_t<std::is_same_v<T, std::string_view>>> {
    static constexpr bool ok = true;
    static void name(type_name& n) { n << "std::string_view"; }
    static void put(writer& w, std::string_view v) { w.str(v.data(), v.size()); }
    static std::string_view get(reader& r) {
        bytes b = r.str("expected a string");
        return std::string_view(keep(b), b.size);
    }
};
}  // namespace rlce
#endif

#if defined(_STL_VECTOR_H) && !defined(RLCE_WIRE_VECTOR)
#define RLCE_WIRE_VECTOR
namespace rlce {
template <class T>
struct wire<std::vector<T>, std::enable_if_t<wire<T>::ok>> : seq_wire<std::vector<T>, T> {
    static void name(type_name& n) { name_list<T>(n, "std::vector"); }
};
}  // namespace rlce
#endif

#if defined(_STL_LIST_H) && !defined(RLCE_WIRE_LIST)
#define RLCE_WIRE_LIST
namespace rlce {
template <class T>
struct wire<std::list<T>, std::enable_if_t<wire<T>::ok>> : seq_wire<std::list<T>, T> {
    static void name(type_name& n) { name_list<T>(n, "std::list"); }
};
}  // namespace rlce
#endif

#if defined(_STL_DEQUE_H) && !defined(RLCE_WIRE_DEQUE)
#define RLCE_WIRE_DEQUE
namespace rlce {
template <class T>
struct wire<std::deque<T>, std::enable_if_t<wire<T>::ok>> : seq_wire<std::deque<T>, T> {
    static void name(type_name& n) { name_list<T>(n, "std::deque"); }
};
}  // namespace rlce
#endif

#if defined(_GLIBCXX_ARRAY) && !defined(RLCE_WIRE_ARRAY)
#define RLCE_WIRE_ARRAY
namespace rlce {
template <class T, std::size_t N>
struct wire<std::array<T, N>, std::enable_if_t<wire<T>::ok>> {
    static constexpr bool ok = true;
    static void name(type_name& n) {
        n << "std::array<";
        wire<T>::name(n);
        n << ", " << N << ">";
    }
    static void put(writer& w, const std::array<T, N>& v) {
        w.count('l', N);
        for (const auto& x : v) wire<T>::put(w, x);
    }
    static std::array<T, N> get(reader& r) {
        if (r.open('l', "expected a list", 1, 0) != N) r.bad("an array of the wrong size");
        std::array<T, N> v{};
        for (auto& x : v) x = wire<T>::get(r);
        r.close();
        return v;
    }
};
}  // namespace rlce
#endif

#if defined(_STL_PAIR_H) && !defined(RLCE_WIRE_PAIR)
#define RLCE_WIRE_PAIR
namespace rlce {
template <class A, class B>
struct wire<std::pair<A, B>, std::enable_if_t<wire<A>::ok && wire<B>::ok>> {
    static constexpr bool ok = true;
    static void name(type_name& n) { name_list<A, B>(n, "std::pair"); }
    static void put(writer& w, const std::pair<A, B>& v) {
        w.count('t', 2);
        wire<A>::put(w, v.first);
        wire<B>::put(w, v.second);
    }
    static std::pair<A, B> get(reader& r) {
        if (r.open('t', "expected a pair", 1, 0) != 2) r.bad("a pair has two elements");
        std::pair<A, B> v{wire<A>::get(r), wire<B>::get(r)};  // a braced list is evaluated left to right
        r.close();
        return v;
    }
};
}  // namespace rlce
#endif

#if defined(_GLIBCXX_TUPLE) && !defined(RLCE_WIRE_TUPLE)
#define RLCE_WIRE_TUPLE
namespace rlce {
template <class... T>
struct wire<std::tuple<T...>, std::enable_if_t<(wire<T>::ok && ...)>> {
    static constexpr bool ok = true;
    static void name(type_name& n) {
        if constexpr (sizeof...(T) == 0)
            n << "std::tuple<>";
        else
            name_list<T...>(n, "std::tuple");
    }
    static void put(writer& w, const std::tuple<T...>& v) {
        w.count('t', sizeof...(T));
        std::apply([&w](const T&... x) { (wire<T>::put(w, x), ...); }, v);
    }
    static std::tuple<T...> get(reader& r) {
        if (r.open('t', "expected a tuple", 1, 0) != sizeof...(T)) r.bad("a tuple of the wrong size");
        std::tuple<T...> v{wire<T>::get(r)...};  // a braced list is evaluated left to right
        r.close();
        return v;
    }
};
}  // namespace rlce
#endif

#if defined(_STL_MAP_H) && !defined(RLCE_WIRE_MAP)
#define RLCE_WIRE_MAP
namespace rlce {
template <class K, class V>
struct wire<std::map<K, V>, std::enable_if_t<wire<K>::ok && wire<V>::ok>> : map_wire<std::map<K, V>, K, V, true> {
    static void name(type_name& n) { name_list<K, V>(n, "std::map"); }
};
}  // namespace rlce
#endif

#if defined(_STL_MULTIMAP_H) && !defined(RLCE_WIRE_MULTIMAP)
#define RLCE_WIRE_MULTIMAP
namespace rlce {
template <class K, class V>
struct wire<std::multimap<K, V>, std::enable_if_t<wire<K>::ok && wire<V>::ok>>
    : map_wire<std::multimap<K, V>, K, V, false> {
    static void name(type_name& n) { name_list<K, V>(n, "std::multimap"); }
};
}  // namespace rlce
#endif

#if defined(_UNORDERED_MAP_H) && !defined(RLCE_WIRE_UNORDERED_MAP)
#define RLCE_WIRE_UNORDERED_MAP
namespace rlce {
template <class K, class V>
struct wire<std::unordered_map<K, V>, std::enable_if_t<wire<K>::ok && wire<V>::ok>>
    : map_wire<std::unordered_map<K, V>, K, V, true> {
    static void name(type_name& n) { name_list<K, V>(n, "std::unordered_map"); }
};
}  // namespace rlce
#endif

#if defined(_STL_SET_H) && !defined(RLCE_WIRE_SET)
#define RLCE_WIRE_SET
namespace rlce {
template <class K>
struct wire<std::set<K>, std::enable_if_t<wire<K>::ok>> : set_wire<std::set<K>, K, true> {
    static void name(type_name& n) { name_list<K>(n, "std::set"); }
};
}  // namespace rlce
#endif

#if defined(_STL_MULTISET_H) && !defined(RLCE_WIRE_MULTISET)
#define RLCE_WIRE_MULTISET
namespace rlce {
template <class K>
struct wire<std::multiset<K>, std::enable_if_t<wire<K>::ok>> : set_wire<std::multiset<K>, K, false> {
    static void name(type_name& n) { name_list<K>(n, "std::multiset"); }
};
}  // namespace rlce
#endif

#if defined(_UNORDERED_SET_H) && !defined(RLCE_WIRE_UNORDERED_SET)
#define RLCE_WIRE_UNORDERED_SET
namespace rlce {
template <class K>
struct wire<std::unordered_set<K>, std::enable_if_t<wire<K>::ok>> : set_wire<std::unordered_set<K>, K, true> {
    static void name(type_name& n) { name_list<K>(n, "std::unordered_set"); }
};
}  // namespace rlce
#endif

#if defined(_GLIBCXX_OPTIONAL) && !defined(RLCE_WIRE_OPTIONAL)
#define RLCE_WIRE_OPTIONAL
namespace rlce {
template <class T>
struct wire<std::optional<T>, std::enable_if_t<wire<T>::ok>> {
    static constexpr bool ok = true;
    static void name(type_name& n) { name_list<T>(n, "std::optional"); }
    static void put(writer& w, const std::optional<T>& v) {
        if (!v) return w.null();
        wire<T>::put(w, *v);
    }
    static std::optional<T> get(reader& r) {
        if (r.peek() == 'N') {
            r.tag();
            return std::nullopt;
        }
        return std::optional<T>(wire<T>::get(r));
    }
};
}  // namespace rlce
#endif

#if defined(_GLIBCXX_VARIANT) && !defined(RLCE_WIRE_VARIANT)
#define RLCE_WIRE_VARIANT
namespace rlce {
template <class T>
struct wire<T, std::enable_if_t<std::is_same_v<T, std::monostate>>> {
    static constexpr bool ok = true;
    static void name(type_name& n) { n << "std::monostate"; }
    static void put(writer& w, const T&) { w.null(); }
    static T get(reader& r) {
        r.expect('N', "expected null");
        return {};
    }
};
// A variant crosses as `A`: the held alternative's type name, then its value.
template <class... T>
struct wire<std::variant<T...>, std::enable_if_t<(wire<T>::ok && ...)>> {
    using V = std::variant<T...>;
    static constexpr bool ok = true;
    static void name(type_name& n) { name_list<T...>(n, "std::variant"); }
    static void put(writer& w, const V& v) {
        if (v.valueless_by_exception()) unsupported_value("a valueless std::variant");
        std::visit(
            [&w](const auto& x) {
                using X = std::decay_t<decltype(x)>;
                type_name n;
                wire<X>::name(n);
                w.tag('A');
                w.str(n.text, n.size);
                wire<X>::put(w, x);
            },
            v);
    }
    template <std::size_t... I>
    static bool pick(reader& r, bytes held, V& out, index_seq<I...>) {
        auto is = [held](auto alt) {
            type_name n;
            wire<typename decltype(alt)::type>::name(n);
            return n == held;
        };
        return ((is(tag<std::variant_alternative_t<I, V>>{})
                     ? (out.template emplace<I>(wire<std::variant_alternative_t<I, V>>::get(r)), true)
                     : false) ||
                ...);
    }
    static V get(reader& r) {
        r.enter('A', "expected a variant");
        bytes held = r.str("expected the alternative's type name");
        V out;
        if (!pick(r, held, out, typename make_seq<sizeof...(T)>::type{})) r.bad("no such alternative in the variant");
        r.close();
        return out;
    }
};
}  // namespace rlce
#endif

// The any types: `N` when empty, else `A` + the held type's name + its value,
// for a fixed registry of held types (another held type cannot cross). The
// codec is prebuilt for std::any and boost::any (wire_any.cpp, linked on
// both sides, so both sides know the same registry); it is declared here.
#if (defined(_GLIBCXX_ANY) || defined(BOOST_ANY_INCLUDED)) && !defined(RLCE_WIRE_ANY)
#define RLCE_WIRE_ANY
namespace rlce {
template <class Any>
struct any_wire {
    static constexpr bool ok = true;
    static void name(type_name& n);
    static void put(writer& w, const Any& a);
    static Any get(reader& r);
};
}  // namespace rlce
#endif

#if defined(_GLIBCXX_ANY) && defined(RLCE_WIRE_ANY) && !defined(RLCE_WIRE_STD_ANY)
#define RLCE_WIRE_STD_ANY
namespace rlce {
extern template struct any_wire<std::any>;
template <class T>
struct wire<T, std::enable_if_t<std::is_same_v<T, std::any>>> : any_wire<std::any> {};
}  // namespace rlce
#endif

#if defined(BOOST_ANY_INCLUDED) && defined(RLCE_WIRE_ANY) && !defined(RLCE_WIRE_BOOST_ANY)
#define RLCE_WIRE_BOOST_ANY
namespace rlce {
extern template struct any_wire<boost::any>;
template <class T>
struct wire<T, std::enable_if_t<std::is_same_v<T, boost::any>>> : any_wire<boost::any> {};
}  // namespace rlce
#endif
