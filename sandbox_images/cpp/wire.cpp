// The byte level of rlce's value wire (rlce_wire.hpp), prebuilt once
// (wire.o) and linked into both the test and the program: the per-test
// builds then only instantiate the type-directed templates.
#include <stdio.h>
#include <stdlib.h>

#include <cstring>
#include <deque>
#include <string>

#include "rlce_wire.hpp"

namespace rlce {

namespace {
std::deque<std::string>& kept() {
    static std::deque<std::string> strings;  // a deque never moves its elements
    return strings;
}
}  // namespace

const char* keep(bytes b) { return kept().emplace_back(b.data, b.size).c_str(); }
void clear_kept() { kept().clear(); }

type_name& type_name::operator<<(const char* s) {
    while (*s && size < sizeof text) text[size++] = *s++;
    return *this;
}
type_name& type_name::operator<<(std::size_t n) {
    char b[24];
    snprintf(b, sizeof b, "%zu", n);
    return *this << b;
}
bool type_name::operator==(bytes b) const { return b.size == size && std::memcmp(b.data, text, size) == 0; }

writer::~writer() { free(data); }
void writer::append(const void* p, std::size_t n) {
    if (size + n > cap) {
        std::size_t want = cap ? cap : 256;
        while (want < size + n) want *= 2;
        char* grown = static_cast<char*>(realloc(data, want));
        if (!grown) value_too_large("more than the memory left to encode it");
        data = grown;
        cap = want;
    }
    std::memcpy(data + size, p, n);
    size += n;
}
void writer::tag(char t) { append(&t, 1); }
void writer::u32(std::uint32_t v) {
    char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    append(b, 4);
}
static void put_u64(writer& w, std::uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = char(v >> (56 - 8 * i));
    w.append(b, 8);
}
void writer::i64(std::int64_t v) {
    tag('i');
    put_u64(*this, static_cast<std::uint64_t>(v));
}
void writer::f64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    tag('d');
    put_u64(*this, bits);
}
void writer::count(char t, std::size_t n) {
    if (n > max_frame) value_too_large("a container of more than 16 Mi elements");
    tag(t);
    u32(std::uint32_t(n));
}
void writer::str(const char* p, std::size_t n) {
    if (n > max_frame) value_too_large("a string longer than 16 MiB");
    tag('s');
    u32(std::uint32_t(n));
    append(p, n);
}
void writer::null() { tag('N'); }

reader::reader(bytes b)
    : p(reinterpret_cast<const unsigned char*>(b.data)), end(reinterpret_cast<const unsigned char*>(b.data) + b.size) {}

void reader::bad(const char* what) const { fail(exit_malformed, "malformed value: ", what); }

unsigned char reader::peek() const {
    if (p == end) bad("truncated frame");
    return *p;
}
unsigned char reader::tag() {
    unsigned char t = peek();
    ++p;
    return t;
}
void reader::expect(char t, const char* what) {
    if (tag() != static_cast<unsigned char>(t)) bad(what);
}
std::uint32_t reader::u32() {
    if (left() < 4) bad("truncated frame");
    std::uint32_t v = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
    p += 4;
    return v;
}
std::int64_t reader::i64(const char* what) {
    expect('i', what);
    std::uint64_t hi = u32();
    return static_cast<std::int64_t>((hi << 32) | u32());
}
double reader::f64(const char* what) {
    expect('d', what);
    std::uint64_t hi = u32();
    std::uint64_t bits = (hi << 32) | u32();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}
bytes reader::str(const char* what) {
    expect('s', what);
    std::uint32_t n = u32();
    if (n > left()) bad("a string longer than the bytes left");
    if (n > budget) bad("the value would allocate more than the decode budget");
    budget -= n;
    bytes s{reinterpret_cast<const char*>(p), n};
    p += n;
    return s;
}
std::uint32_t reader::open(char t, const char* what, std::size_t min_bytes, std::size_t element_size) {
    expect(t, what);
    std::uint32_t n = u32();
    if (std::uint64_t(n) * min_bytes > left()) bad("a count larger than the bytes left");
    std::uint64_t cost = std::uint64_t(n) * (element_size ? element_size : 1);
    if (cost > budget) bad("the value would allocate more than the decode budget");
    budget -= cost;
    if (++depth > max_depth) bad("nested deeper than 100");
    return n;
}
void reader::enter(char t, const char* what) {
    expect(t, what);
    if (++depth > max_depth) bad("nested deeper than 100");
}
void reader::finish() const {
    if (p != end) bad("trailing bytes after the value");
}

}  // namespace rlce
