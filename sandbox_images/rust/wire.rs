//! rlce_wire: the value channel of rlce's split Rust assertion tests
//! (docs/SPLIT_TESTS.md, wire version 1).
//!
//! Compiled once into an rlib at image build and linked by both processes:
//! the program's server (`serve`, fd 3) and the test's stubs (`Call`, fd 5).
//! Decoding is directed by the receiver's Rust type (`Dec`) and strict: a tag
//! that does not fit, an integer out of range, a count larger than the bytes
//! left, nesting deeper than `MAX_DEPTH`, a duplicate map key or set element,
//! or bytes left over is a malformed value. What the program sends is
//! untrusted: the test side exits 112 on any of these, 115 when the program
//! reports a panic, 116 when the program's end of the channel closes.
#![allow(clippy::all)]

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;
use std::io::{Read, Write};
use std::os::unix::io::{FromRawFd, RawFd};

/// Largest frame either side sends or accepts.
pub const MAX_FRAME: usize = 16 << 20;
/// Deepest nesting of containers a reader accepts.
pub const MAX_DEPTH: usize = 100;
/// Most memory the elements decoded from one frame may take (sum of the
/// element sizes of every container): a one-byte `N` can stand for a large
/// `Option<[i64; 65536]>`, so the count check alone does not bound memory.
pub const MAX_DECODED: usize = 128 << 20;

/// Exit codes of the test process (docs/SPLIT_TESTS.md).
pub const EXIT_NONCE: i32 = 111;
pub const EXIT_MALFORMED: i32 = 112;
pub const EXIT_UNSUPPORTED: i32 = 113;
pub const EXIT_NO_TEST: i32 = 114;
pub const EXIT_RAISED: i32 = 115;
pub const EXIT_CLOSED: i32 = 116;

/// Why a value could not be encoded (a value the wire cannot carry).
pub type EncResult = Result<(), String>;

/// A malformed frame or value.
#[derive(Debug)]
pub struct Bad(pub String);

/// A value the wire can carry.
pub trait Enc {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult;
}

/// A value the wire can rebuild, directed by the receiver's type.
pub trait Dec: Sized {
    fn dec(r: &mut Reader) -> Result<Self, Bad>;
}

// ---------------------------------------------------------------- reading

/// A bounded, depth-limited cursor over one frame's bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    budget: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0, depth: 0, budget: MAX_DECODED }
    }

    /// Books `n` elements of `size` bytes against the frame's memory budget
    /// before they are allocated.
    pub fn charge(&mut self, n: usize, size: usize) -> Result<(), Bad> {
        match n.checked_mul(size.max(1)) {
            Some(b) if b <= self.budget => {
                self.budget -= b;
                Ok(())
            }
            _ => self.bad("value larger than the decoder's memory budget"),
        }
    }

    pub fn bad<T>(&self, what: &str) -> Result<T, Bad> {
        Err(Bad(format!("{} at byte {}", what, self.pos)))
    }

    pub fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if n > self.left() {
            return self.bad("value runs past the end of the frame");
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn peek_tag(&self) -> Result<u8, Bad> {
        match self.buf.get(self.pos) {
            Some(t) => Ok(*t),
            None => self.bad("missing value"),
        }
    }

    /// The next tag, which must be `want`.
    pub fn tag(&mut self, want: u8) -> Result<(), Bad> {
        let t = self.peek_tag()?;
        if t != want {
            return self.bad(&format!("tag {:?} where {:?} was expected", t as char, want as char));
        }
        self.pos += 1;
        Ok(())
    }

    fn u32(&mut self) -> Result<u32, Bad> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, Bad> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// A count that cannot exceed the bytes left (each value takes at least
    /// `per` bytes), so nothing allocates beyond the frame's size.
    fn count(&mut self, per: usize) -> Result<usize, Bad> {
        let n = self.u32()? as usize;
        if n.checked_mul(per).map_or(true, |need| need > self.left()) {
            return self.bad("count larger than the bytes left");
        }
        Ok(n)
    }

    /// A container of tag `tag` whose body is read by `f` one level deeper.
    pub fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Bad>) -> Result<T, Bad> {
        if self.depth >= MAX_DEPTH {
            return self.bad("values nested too deeply");
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    /// `l`, `t`, `S` header: the element count.
    pub fn seq(&mut self, tag: u8) -> Result<usize, Bad> {
        self.tag(tag)?;
        self.count(1)
    }

    /// A tuple of exactly `n` values.
    pub fn tuple(&mut self, n: usize) -> Result<(), Bad> {
        if self.seq(b't')? != n {
            return self.bad("tuple of the wrong length");
        }
        Ok(())
    }

    pub fn string(&mut self) -> Result<String, Bad> {
        self.tag(b's')?;
        let n = self.count(1)?;
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => self.bad("string is not UTF-8"),
        }
    }

    /// A user-defined enum's value `t[s variant, fields...]`: its variant name
    /// and the number of fields that follow.
    pub fn variant(&mut self) -> Result<(String, usize), Bad> {
        let n = self.seq(b't')?;
        if n == 0 {
            return self.bad("enum value without its variant");
        }
        Ok((self.string()?, n - 1))
    }

    /// `got` fields follow where the variant has `want`.
    pub fn fields(&self, got: usize, want: usize) -> Result<(), Bad> {
        if got != want {
            return self.bad("enum variant with the wrong number of fields");
        }
        Ok(())
    }

    pub fn end(&self) -> Result<(), Bad> {
        if self.left() != 0 {
            return self.bad("trailing bytes after the value");
        }
        Ok(())
    }
}

/// Decodes `buf` as exactly one `T`.
pub fn decode<T: Dec>(buf: &[u8]) -> Result<T, Bad> {
    let mut r = Reader::new(buf);
    let v = T::dec(&mut r)?;
    r.end()?;
    Ok(v)
}

// ---------------------------------------------------------------- writing

pub fn put_u32(w: &mut Vec<u8>, n: usize) -> EncResult {
    if n > MAX_FRAME {
        return Err(format!("a length of {} is more than a frame holds", n));
    }
    w.extend_from_slice(&(n as u32).to_be_bytes());
    Ok(())
}

pub fn put_str(w: &mut Vec<u8>, s: &str) -> EncResult {
    w.push(b's');
    put_u32(w, s.len())?;
    w.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Header of a user-defined enum value with `fields` fields.
pub fn put_variant(w: &mut Vec<u8>, name: &str, fields: usize) -> EncResult {
    w.push(b't');
    put_u32(w, fields + 1)?;
    put_str(w, name)
}

/// Header of a tuple (or a user-defined struct) of `n` values.
pub fn put_tuple(w: &mut Vec<u8>, n: usize) -> EncResult {
    w.push(b't');
    put_u32(w, n)
}

fn put_seq<'a, T: Enc + 'a>(w: &mut Vec<u8>, tag: u8, n: usize, it: impl Iterator<Item = &'a T>) -> EncResult {
    w.push(tag);
    put_u32(w, n)?;
    for v in it {
        v.enc(w)?;
        if w.len() > MAX_FRAME {
            return Err("a value larger than a frame".into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- scalars

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl Enc for $t {
            fn enc(&self, w: &mut Vec<u8>) -> EncResult {
                match i64::try_from(*self) {
                    Ok(v) => { w.push(b'i'); w.extend_from_slice(&v.to_be_bytes()); Ok(()) }
                    Err(_) => Err(format!("the integer {} is outside the wire's 64-bit range", self)),
                }
            }
        }
        impl Dec for $t {
            fn dec(r: &mut Reader) -> Result<Self, Bad> {
                r.tag(b'i')?;
                let v = r.i64()?;
                match <$t>::try_from(v) {
                    Ok(x) => Ok(x),
                    Err(_) => r.bad(concat!("integer out of range of ", stringify!($t))),
                }
            }
        }
    )*};
}
ints!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl Enc for f64 {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        w.push(b'd');
        w.extend_from_slice(&self.to_bits().to_be_bytes());
        Ok(())
    }
}
impl Dec for f64 {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.tag(b'd')?;
        Ok(f64::from_bits(r.i64()? as u64))
    }
}
impl Enc for f32 {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        (*self as f64).enc(w)
    }
}
impl Dec for f32 {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let v = f64::dec(r)?;
        let x = v as f32;
        if x as f64 == v || v.is_nan() {
            Ok(x)
        } else {
            r.bad("double not exactly an f32")
        }
    }
}

impl Enc for bool {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        w.push(if *self { b'T' } else { b'F' });
        Ok(())
    }
}
impl Dec for bool {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        match r.peek_tag()? {
            b'T' => { r.pos += 1; Ok(true) }
            b'F' => { r.pos += 1; Ok(false) }
            _ => r.bad("not a boolean"),
        }
    }
}

impl Enc for char {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        w.push(b'c');
        w.extend_from_slice(&(*self as u32).to_be_bytes());
        Ok(())
    }
}
impl Dec for char {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.tag(b'c')?;
        let v = r.u32()?;
        match char::from_u32(v) {
            Some(c) => Ok(c),
            None => r.bad("not a Unicode scalar value"),
        }
    }
}

impl Enc for str {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_str(w, self)
    }
}
impl Enc for String {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_str(w, self)
    }
}
impl Dec for String {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.string()
    }
}

// ---------------------------------------------------------------- references and boxes
// Decoding a borrowed type leaks the owned value: both processes are short
// lived, and what they decode is bounded by the frame size.

impl<T: Enc + ?Sized> Enc for &T {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        (**self).enc(w)
    }
}
impl<T: Enc + ?Sized> Enc for Box<T> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        (**self).enc(w)
    }
}
impl<T: Dec + 'static> Dec for &'static T {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.charge(1, std::mem::size_of::<T>())?;
        Ok(Box::leak(Box::new(T::dec(r)?)))
    }
}
impl Dec for &'static str {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok(Box::leak(r.string()?.into_boxed_str()))
    }
}
impl<T: Dec + 'static> Dec for &'static [T] {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok(Box::leak(Vec::<T>::dec(r)?.into_boxed_slice()))
    }
}

// ---------------------------------------------------------------- sequences, tuples, options

impl<T: Enc> Enc for [T] {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_seq(w, b'l', self.len(), self.iter())
    }
}
impl<T: Enc> Enc for Vec<T> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_seq(w, b'l', self.len(), self.iter())
    }
}
impl<T: Dec> Dec for Vec<T> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = r.seq(b'l')?;
        r.charge(n, std::mem::size_of::<T>())?;
        r.nested(|r| {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(T::dec(r)?);
            }
            Ok(v)
        })
    }
}
impl<T: Enc, const N: usize> Enc for [T; N] {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_seq(w, b'l', N, self.iter())
    }
}
impl<T: Dec, const N: usize> Dec for [T; N] {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let v = Vec::<T>::dec(r)?;
        match <[T; N]>::try_from(v) {
            Ok(a) => Ok(a),
            Err(_) => r.bad("array of the wrong length"),
        }
    }
}

impl<T: Enc> Enc for Option<T> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        match self {
            None => { w.push(b'N'); Ok(()) }
            Some(v) => v.enc(w),
        }
    }
}
impl<T: Dec> Dec for Option<T> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        if r.peek_tag()? == b'N' {
            r.pos += 1;
            return Ok(None);
        }
        Ok(Some(T::dec(r)?))
    }
}

macro_rules! tuples {
    ($($n:literal: ($($t:ident $i:tt),*);)*) => {$(
        impl<$($t: Enc),*> Enc for ($($t,)*) {
            fn enc(&self, w: &mut Vec<u8>) -> EncResult {
                put_tuple(w, $n)?;
                $( self.$i.enc(w)?; )*
                Ok(())
            }
        }
        impl<$($t: Dec),*> Dec for ($($t,)*) {
            #[allow(unused_variables)]
            fn dec(r: &mut Reader) -> Result<Self, Bad> {
                r.tuple($n)?;
                r.nested(|r| Ok(($($t::dec(r)?,)*)))
            }
        }
    )*};
}
tuples! {
    0: ();
    1: (A 0);
    2: (A 0, B 1);
    3: (A 0, B 1, C 2);
    4: (A 0, B 1, C 2, D 3);
    5: (A 0, B 1, C 2, D 3, E 4);
    6: (A 0, B 1, C 2, D 3, E 4, F 5);
    7: (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    9: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    10: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    11: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    12: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
}

// ---------------------------------------------------------------- maps and sets

fn put_map<'a, K: Enc + 'a, V: Enc + 'a>(w: &mut Vec<u8>, n: usize, it: impl Iterator<Item = (&'a K, &'a V)>) -> EncResult {
    w.push(b'm');
    put_u32(w, n)?;
    for (k, v) in it {
        k.enc(w)?;
        v.enc(w)?;
        if w.len() > MAX_FRAME {
            return Err("a value larger than a frame".into());
        }
    }
    Ok(())
}

/// `m` header: the entry count (each entry takes at least two bytes).
fn map_count(r: &mut Reader) -> Result<usize, Bad> {
    r.tag(b'm')?;
    r.count(2)
}

impl<K: Enc, V: Enc, S> Enc for HashMap<K, V, S> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_map(w, self.len(), self.iter())
    }
}
impl<K: Dec + Eq + Hash, V: Dec> Dec for HashMap<K, V> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = map_count(r)?;
        r.charge(n, std::mem::size_of::<(K, V)>() + 8)?;
        r.nested(|r| {
            let mut m = HashMap::with_capacity(n);
            for _ in 0..n {
                let k = K::dec(r)?;
                let v = V::dec(r)?;
                if m.insert(k, v).is_some() {
                    return r.bad("duplicate map key");
                }
            }
            Ok(m)
        })
    }
}
impl<K: Enc, V: Enc> Enc for BTreeMap<K, V> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_map(w, self.len(), self.iter())
    }
}
impl<K: Dec + Ord, V: Dec> Dec for BTreeMap<K, V> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = map_count(r)?;
        r.charge(n, std::mem::size_of::<(K, V)>() + 8)?;
        r.nested(|r| {
            let mut m = BTreeMap::new();
            for _ in 0..n {
                let k = K::dec(r)?;
                let v = V::dec(r)?;
                if m.insert(k, v).is_some() {
                    return r.bad("duplicate map key");
                }
            }
            Ok(m)
        })
    }
}
impl<T: Enc, S> Enc for HashSet<T, S> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_seq(w, b'S', self.len(), self.iter())
    }
}
impl<T: Dec + Eq + Hash> Dec for HashSet<T> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = r.seq(b'S')?;
        r.charge(n, std::mem::size_of::<T>() + 8)?;
        r.nested(|r| {
            let mut s = HashSet::with_capacity(n);
            for _ in 0..n {
                if !s.insert(T::dec(r)?) {
                    return r.bad("duplicate set element");
                }
            }
            Ok(s)
        })
    }
}
impl<T: Enc> Enc for BTreeSet<T> {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        put_seq(w, b'S', self.len(), self.iter())
    }
}
impl<T: Dec + Ord> Dec for BTreeSet<T> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = r.seq(b'S')?;
        r.charge(n, std::mem::size_of::<T>() + 8)?;
        r.nested(|r| {
            let mut s = BTreeSet::new();
            for _ in 0..n {
                if !s.insert(T::dec(r)?) {
                    return r.bad("duplicate set element");
                }
            }
            Ok(s)
        })
    }
}

// ---------------------------------------------------------------- Box<dyn Any>, &dyn Any
// Tag `A`: the concrete type's Rust name, then the value. Only the closed list
// below crosses; the receiver rebuilds the same concrete type, so the
// program's `downcast_ref::<T>()` sees what the test boxed.

macro_rules! any_types {
    ($($name:literal => $t:ty,)*) => {
        /// The closed list of concrete types a `Box<dyn Any>` / `&dyn Any` may hold.
        pub const ANY_TYPES: &[&str] = &[$($name),*];

        fn enc_any(v: &dyn Any, w: &mut Vec<u8>) -> EncResult {
            $(
                if let Some(x) = v.downcast_ref::<$t>() {
                    w.push(b'A');
                    put_str(w, $name)?;
                    return x.enc(w);
                }
            )*
            Err("a dyn Any holding a type the wire cannot carry (not one of rlce_wire::ANY_TYPES)".into())
        }

        fn dec_any(r: &mut Reader) -> Result<Box<dyn Any>, Bad> {
            r.tag(b'A')?;
            let name = r.string()?;
            r.nested(|r| match name.as_str() {
                $( $name => {
                    r.charge(1, std::mem::size_of::<$t>())?;
                    Ok(Box::new(<$t as Dec>::dec(r)?) as Box<dyn Any>)
                } )*
                _ => r.bad("dyn Any of an unknown type"),
            })
        }
    };
}
any_types! {
    "i8" => i8, "i16" => i16, "i32" => i32, "i64" => i64, "i128" => i128, "isize" => isize,
    "u8" => u8, "u16" => u16, "u32" => u32, "u64" => u64, "u128" => u128, "usize" => usize,
    "f32" => f32, "f64" => f64, "bool" => bool, "char" => char, "String" => String, "&str" => &'static str,
    "()" => (),
    "Vec<i32>" => Vec<i32>, "Vec<i64>" => Vec<i64>, "Vec<isize>" => Vec<isize>, "Vec<usize>" => Vec<usize>,
    "Vec<u8>" => Vec<u8>, "Vec<f32>" => Vec<f32>, "Vec<f64>" => Vec<f64>, "Vec<bool>" => Vec<bool>,
    "Vec<char>" => Vec<char>, "Vec<String>" => Vec<String>, "Vec<&str>" => Vec<&'static str>,
    "Vec<Box<dyn Any>>" => Vec<Box<dyn Any>>,
    "Option<i32>" => Option<i32>, "Option<i64>" => Option<i64>, "Option<f64>" => Option<f64>,
    "Option<String>" => Option<String>, "Option<&str>" => Option<&'static str>,
}

impl Enc for dyn Any {
    fn enc(&self, w: &mut Vec<u8>) -> EncResult {
        enc_any(self, w)
    }
}
impl Dec for Box<dyn Any> {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        dec_any(r)
    }
}
impl Dec for &'static dyn Any {
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok(Box::leak(dec_any(r)?))
    }
}

// ---------------------------------------------------------------- frames

/// The channel's descriptor, borrowed (never closed by a drop).
fn chan(fd: RawFd) -> std::mem::ManuallyDrop<std::fs::File> {
    std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) })
}

pub enum ReadErr {
    /// End of file before the first byte of a frame.
    Eof,
    /// End of file inside a frame, or a read error.
    Closed,
    /// A length over `MAX_FRAME`.
    TooLarge,
}

/// Reads as much of `buf` as arrives; the count read (short only at end of file).
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> Result<usize, ReadErr> {
    let mut got = 0;
    while got < buf.len() {
        match f.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadErr::Closed),
        }
    }
    Ok(got)
}

pub fn read_frame(fd: RawFd) -> Result<Vec<u8>, ReadErr> {
    let mut f = chan(fd);
    let mut len = [0u8; 4];
    match read_full(&mut f, &mut len)? {
        0 => return Err(ReadErr::Eof),
        4 => {}
        _ => return Err(ReadErr::Closed),
    }
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(ReadErr::TooLarge);
    }
    let mut body = vec![0u8; n];
    if read_full(&mut f, &mut body)? != n {
        return Err(ReadErr::Closed);
    }
    Ok(body)
}

pub fn write_frame(fd: RawFd, body: &[u8]) -> std::io::Result<()> {
    let mut f = chan(fd);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    f.write_all(&out)
}

// ---------------------------------------------------------------- test side

/// The test process's end of the value channel.
pub const TEST_FD: RawFd = 5;
/// The program process's end of the value channel.
pub const PROGRAM_FD: RawFd = 3;

extern "C" {
    fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize;
    fn shutdown(fd: i32, how: i32) -> i32;
    fn poll(fds: *mut PollFd, nfds: u64, timeout_ms: i32) -> i32;
}
#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}
const MSG_PEEK: i32 = 2;
const MSG_DONTWAIT: i32 = 0x40;
const SHUT_WR: i32 = 1;
const POLLIN: i16 = 1;
/// How long the test waits, after its last call, for the program to close the channel.
const DRAIN_MS: u64 = 200;

/// Ends the test process with `code` after one line on stderr (a `process::exit`,
/// not a panic: a test's `catch_unwind` cannot turn it into a pass).
pub fn fail(code: i32, msg: &str) -> ! {
    let clean: String = msg.chars().take(400).map(|c| if c.is_control() { ' ' } else { c }).collect();
    let _ = writeln!(std::io::stderr(), "rlce: {}", clean);
    std::process::exit(code)
}

/// One call at a time on the channel, even if a test calls from several threads.
static CHANNEL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Bytes the program sent that no request asked for are a malformed reply.
fn no_unsolicited() {
    let mut b = [0u8; 1];
    let n = unsafe { recv(TEST_FD, b.as_mut_ptr(), 1, MSG_PEEK | MSG_DONTWAIT) };
    if n > 0 {
        fail(EXIT_MALFORMED, "the program sent a reply to no request");
    }
}

/// One call from a test stub: the request frame being built.
pub struct Call {
    name: &'static str,
    buf: Vec<u8>,
}

impl Call {
    /// `t[s "call", s name, i 0, l args]` with `nargs` arguments to follow.
    pub fn new(name: &'static str, nargs: usize) -> Call {
        let mut buf = Vec::new();
        let head = put_tuple(&mut buf, 4)
            .and_then(|_| put_str(&mut buf, "call"))
            .and_then(|_| put_str(&mut buf, name))
            .and_then(|_| 0i64.enc(&mut buf))
            .and_then(|_| {
                buf.push(b'l');
                put_u32(&mut buf, nargs)
            });
        if let Err(e) = head {
            fail(EXIT_UNSUPPORTED, &format!("unsupported: function {}: {}", name, e));
        }
        Call { name, buf }
    }

    pub fn arg<T: Enc + ?Sized>(&mut self, v: &T) {
        if let Err(e) = v.enc(&mut self.buf) {
            fail(EXIT_UNSUPPORTED, &format!("unsupported: function {}: argument: {}", self.name, e));
        }
    }

    /// Sends the request and decodes the reply as the declared return type.
    pub fn finish<R: Dec>(self) -> R {
        if self.buf.len() > MAX_FRAME {
            fail(EXIT_UNSUPPORTED, &format!("unsupported: function {}: arguments larger than a frame", self.name));
        }
        let _one = CHANNEL.lock().unwrap_or_else(|e| e.into_inner());
        no_unsolicited();
        if write_frame(TEST_FD, &self.buf).is_err() {
            fail(EXIT_CLOSED, &format!("the program's process ended during a call to {}", self.name));
        }
        let body = match read_frame(TEST_FD) {
            Ok(b) => b,
            Err(ReadErr::TooLarge) => fail(EXIT_MALFORMED, "the program sent a frame larger than 16 MiB"),
            Err(_) => fail(EXIT_CLOSED, &format!("the program's process ended during a call to {}", self.name)),
        };
        let mut r = Reader::new(&body);
        let outcome = (|| {
            r.tuple(2)?;
            let status = r.string()?;
            Ok::<_, Bad>(match status.as_str() {
                "ok" => Ok(R::dec(&mut r)?),
                "raised" => Err(r.string()?),
                _ => return r.bad("reply status neither ok nor raised"),
            })
        })();
        let outcome = match outcome.and_then(|v| r.end().map(|_| v)) {
            Ok(v) => v,
            Err(Bad(why)) => fail(EXIT_MALFORMED, &format!("malformed reply from {}: {}", self.name, why)),
        };
        match outcome {
            Ok(v) => v,
            Err(msg) => fail(EXIT_RAISED, &format!("{} raised: {}", self.name, msg)),
        }
    }
}

/// After the last test: the program sees end of file (and exits); anything
/// it sent that no request asked for is malformed. The stream has no request
/// ids (wire v1), so a reply sent ahead of its request shifts every later
/// reply by one: the last genuine reply is then still unread here. Waits at
/// most DRAIN_MS for the program to close its end.
pub fn finish_channel() {
    let _one = CHANNEL.lock().unwrap_or_else(|e| e.into_inner());
    no_unsolicited();
    unsafe {
        shutdown(TEST_FD, SHUT_WR);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(DRAIN_MS);
    let mut f = chan(TEST_FD);
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return; // the program keeps its end open: nothing more to learn
        }
        let mut p = PollFd { fd: TEST_FD, events: POLLIN, revents: 0 };
        let r = unsafe { poll(&mut p, 1, left.as_millis().max(1) as i32) };
        if r < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if r == 0 {
            return;
        }
        match f.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => fail(EXIT_MALFORMED, "the program sent a reply to no request"),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

// ---------------------------------------------------------------- program side

/// The arguments of one request, decoded one by one by the dispatcher.
pub struct Args<'a> {
    r: Reader<'a>,
    left: usize,
}

impl<'a> Args<'a> {
    pub fn arity(&self, n: usize) -> Result<(), String> {
        if self.left != n {
            return Err(format!("{} arguments where the function takes {}", self.left, n));
        }
        Ok(())
    }
}

/// The next argument, as the program function's parameter type.
pub fn arg<T: Dec>(a: &mut Args) -> Result<T, String> {
    if a.left == 0 {
        return Err("missing argument".into());
    }
    a.left -= 1;
    a.r.nested(|r| T::dec(r)).map_err(|Bad(e)| e)
}

fn raised(msg: &str) -> Vec<u8> {
    let mut w = Vec::new();
    let _ = put_tuple(&mut w, 2);
    let _ = put_str(&mut w, "raised");
    let m: String = msg.chars().take(2000).collect();
    let _ = put_str(&mut w, &m);
    w
}

/// The reply to a call that returned (`ok`) or panicked (`raised`).
pub fn reply<R: Enc>(r: std::thread::Result<R>) -> Vec<u8> {
    match r {
        Ok(v) => {
            let mut w = Vec::new();
            let _ = put_tuple(&mut w, 2);
            let _ = put_str(&mut w, "ok");
            match v.enc(&mut w) {
                Ok(()) if w.len() <= MAX_FRAME => w,
                Ok(()) => raised("return value larger than a frame"),
                Err(e) => raised(&format!("return value: {}", e)),
            }
        }
        Err(p) => {
            let msg = if let Some(s) = p.downcast_ref::<&str>() {
                s.to_string()
            } else if let Some(s) = p.downcast_ref::<String>() {
                s.clone()
            } else {
                "panic".to_string()
            };
            std::mem::forget(p); // a payload's Drop is the program's code: not run here
            raised(&msg)
        }
    }
}

pub type Dispatch = fn(&str, &mut Args) -> Result<Vec<u8>, String>;

/// The program process: serve calls on fd 3 until end of file, then exit 0.
pub fn serve(dispatch: Dispatch) -> ! {
    loop {
        let body = match read_frame(PROGRAM_FD) {
            Ok(b) => b,
            Err(ReadErr::Eof) => std::process::exit(0),
            Err(_) => std::process::exit(1),
        };
        let mut r = Reader::new(&body);
        let head = (|| {
            r.tuple(4)?;
            let op = r.string()?;
            let name = r.string()?;
            let _handle = i64::dec(&mut r)?;
            let n = r.seq(b'l')?;
            Ok::<_, Bad>((op, name, n))
        })();
        let out = match head {
            Err(Bad(e)) => raised(&format!("malformed request: {}", e)),
            Ok((op, _, _)) if op != "call" => raised("unknown request"),
            Ok((_, name, n)) => {
                let mut a = Args { r, left: n };
                match dispatch(&name, &mut a) {
                    Ok(w) => w,
                    Err(e) => raised(&e),
                }
            }
        };
        if write_frame(PROGRAM_FD, &out).is_err() {
            std::process::exit(1);
        }
    }
}

/// The dispatcher's check that the arguments were all read.
pub fn args_end(a: &Args) -> Result<(), String> {
    if a.left != 0 {
        return Err("too many arguments".into());
    }
    a.r.end().map_err(|Bad(e)| e)
}

// ---------------------------------------------------------------- shared instantiations
// The image compiles this rlib at opt-level 1, where rustc shares generics:
// a crate linking it (the program crate at opt-level 1, the test crate at 0;
// both share by default) calls the instantiations made here instead of
// making and optimizing its own. Listing the types of HumanEval-X's and
// MultiPL-E's signatures here halves the program build's CPU time; other
// types work the same, only instantiated in the crate that needs them.

macro_rules! shared_instances {
    (params: $($p:ty),* ; returns: $($r:ty),* ;) => {
        #[doc(hidden)]
        pub fn __shared_instances() -> usize {
            let mut n = 0usize;
            $(
                n ^= arg::<$p> as fn(&mut Args) -> Result<$p, String> as usize;
                n ^= Call::arg::<$p> as fn(&mut Call, &$p) as usize;
            )*
            $(
                n ^= reply::<$r> as fn(std::thread::Result<$r>) -> Vec<u8> as usize;
                n ^= Call::finish::<$r> as fn(Call) -> $r as usize;
            )*
            n
        }
    };
}
shared_instances! {
    params: i32, i64, isize, u32, usize, f32, f64, bool, char, String, &'static str, &'static f32,
        &'static dyn Any, Vec<i32>, Vec<i64>, Vec<isize>, Vec<u32>, Vec<f32>, Vec<f64>, Vec<String>,
        Vec<&'static str>, Vec<Vec<i32>>, Vec<Vec<isize>>, Vec<Box<dyn Any>>, &'static Vec<f64>, (isize, isize),
        HashMap<String, String>, HashMap<&'static str, &'static str>;
    returns: i32, i64, isize, u32, usize, f32, f64, bool, char, String, &'static str, (), (i32, i32),
        (isize, isize), (f32, f32), (f64, f64), (String, bool), (Option<isize>, Option<isize>), Option<isize>,
        Option<String>, Vec<i32>, Vec<i64>, Vec<isize>, Vec<u32>, Vec<f32>, Vec<f64>, Vec<String>,
        Vec<&'static str>, Vec<Vec<i32>>, Vec<(isize, isize)>, HashMap<String, isize>, HashMap<char, i32>;
}
