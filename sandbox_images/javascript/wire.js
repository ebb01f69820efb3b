// rlce's value wire, version 1, for JavaScript (docs/SPLIT_TESTS.md, "The wire").
//
// Both processes of a split assertion test load this file: the program process
// (serve.js) to decode calls and encode results, the test process (judge.js) to
// encode arguments and decode results. Whatever the program process sends is
// untrusted, so the decoder is strict: a frame of at most 16 MiB, exactly one
// value per frame, no trailing bytes, depth at most 100, every count checked
// against the bytes left before anything is allocated, UTF-8 checked by a
// fatal TextDecoder, canonical forms only, and it builds plain data only
// (no getters, no prototypes chosen by the sender, no code).
//
// How JavaScript values are carried (JavaScript sits at both ends, so tags
// are chosen to round-trip exactly):
//   undefined U, null N, booleans T/F, every number d (f64: NaN, Infinity, -0),
//   BigInt i (i64) or, outside i64, A "BigInt" + s hex ("-0x..", linear time
//   both ways), strings s (UTF-8; a string with a lone surrogate cannot be
//   carried), dense arrays l (an array with holes cannot be carried: a hole
//   and undefined differ for assert.deepEqual), plain objects m with string
//   keys (own enumerable string keys, as JSON and deepEqual see them),
//   objects with a null prototype A "NullObject" + m, Map A "Map" + m (any
//   keys), Set S. Anything else (functions, symbols, class instances, Date,
//   RegExp, typed arrays, boxed primitives, objects with enumerable symbol
//   keys, cyclic or deeper than 100) cannot be carried.
// Shared references are carried as copies. The tags c and t never occur
// inside a JavaScript value; t only frames the messages.
'use strict';

// Taken when this file loads, before any program code: a program's top-level
// `const Map = ...` would otherwise be what these names mean here.
const { Object, Array, Map, Set, Buffer, BigInt, String, Error, TextDecoder, SharedArrayBuffer, Int32Array, Atomics } =
  globalThis;

const MAX_FRAME = 16 << 20;
const MAX_DEPTH = 100;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** The peer sent bytes that are not a well-formed frame or value. */
class Malformed extends Error {}
/** A value this wire cannot carry; `type` names what it was. */
class Unsupported extends Error {
  constructor(type) {
    super(`cannot carry ${type}`);
    this.type = type;
  }
}

// A value past the wire's size or depth limits: its type is carriable, so a test that meets
// one is passing back what the program's calls gave it (the test exits 117: the program's
// failure, never the caller's 113).
class TooLarge extends Unsupported {}

const LONE_SURROGATE = /\p{Cs}/u; // in u-mode a surrogate pair is one code point, never Cs
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEX_BIGINT = /^-?0x[1-9a-f][0-9a-f]*$/;
const hasOwn = Object.prototype.hasOwnProperty;

const T = (c) => c.charCodeAt(0);
const TAG = {
  N: T('N'), U: T('U'), TRUE: T('T'), FALSE: T('F'), i: T('i'), d: T('d'), c: T('c'), s: T('s'),
  l: T('l'), t: T('t'), m: T('m'), S: T('S'), A: T('A'),
};

function typeName(v) {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  try {
    const proto = Object.getPrototypeOf(v);
    const ctor = proto && hasOwn.call(proto, 'constructor') ? proto.constructor : null;
    const name = typeof ctor === 'function' && typeof ctor.name === 'string' ? ctor.name : '';
    return /^[\w$]{1,64}$/.test(name) ? `an object of class ${name}` : 'an object';
  } catch (_) {
    return 'an object';
  }
}

/**
 * A frame under construction: 4 bytes reserved for the length, then the body.
 * Grows by doubling; refuses (Unsupported) to pass MAX_FRAME, which also bounds
 * the time an encoding of a shared-reference blow-up can take.
 */
class Writer {
  constructor(limit = MAX_FRAME) {
    this.buf = Buffer.allocUnsafe(256);
    this.pos = 4;
    this.limit = limit;
  }

  room(n) {
    const need = this.pos + n;
    if (need - 4 > this.limit) throw new TooLarge('a value larger than the frame limit');
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, this.limit + 4));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
  }

  tag(t) {
    this.room(1);
    this.buf[this.pos++] = t;
  }

  u32(n) {
    this.room(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  f64(x) {
    this.room(9);
    this.buf[this.pos++] = TAG.d;
    this.buf.writeDoubleBE(x, this.pos);
    this.pos += 8;
  }

  i64(n) {
    this.room(9);
    this.buf[this.pos++] = TAG.i;
    this.buf.writeBigInt64BE(n, this.pos);
    this.pos += 8;
  }

  str(s) {
    if (LONE_SURROGATE.test(s)) throw new Unsupported('a string with a lone surrogate');
    const n = Buffer.byteLength(s, 'utf8');
    this.room(5 + n);
    this.buf[this.pos++] = TAG.s;
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  raw(bytes) {
    this.room(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  /** The frame: length prefix and body. */
  frame() {
    this.buf.writeUInt32BE(this.pos - 4, 0);
    return this.buf.subarray(0, this.pos);
  }

  /** The body alone (to splice into another frame). */
  body() {
    return this.buf.subarray(4, this.pos);
  }
}

function encodeEntries(w, obj, keys, depth) {
  w.u32(keys.length);
  for (const k of keys) {
    w.str(k);
    encodeValue(w, obj[k], depth + 1); // getters run here, in the encoding process
  }
}

/** Append one value at nesting `depth` (1 = the frame's value). */
function encodeValue(w, v, depth) {
  if (depth > MAX_DEPTH) throw new TooLarge('a value nested deeper than 100 (cyclic?)');
  switch (typeof v) {
    case 'undefined':
      return w.tag(TAG.U);
    case 'boolean':
      return w.tag(v ? TAG.TRUE : TAG.FALSE);
    case 'number':
      return w.f64(v);
    case 'string':
      return w.str(v);
    case 'bigint':
      if (v >= I64_MIN && v <= I64_MAX) return w.i64(v);
      w.tag(TAG.A);
      w.str('BigInt');
      return w.str(v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);
    case 'object':
      break;
    default:
      throw new Unsupported(`a ${typeof v}`);
  }
  if (v === null) return w.tag(TAG.N);
  if (Array.isArray(v)) {
    const n = v.length;
    w.tag(TAG.l);
    w.u32(n);
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (x === undefined && !hasOwn.call(v, i)) throw new Unsupported('an array with holes');
      encodeValue(w, x, depth + 1);
    }
    return undefined;
  }
  if (v instanceof Map) {
    w.tag(TAG.A);
    w.str('Map');
    w.tag(TAG.m);
    w.u32(v.size);
    for (const [k, x] of v) {
      encodeValue(w, k, depth + 1);
      encodeValue(w, x, depth + 1);
    }
    return undefined;
  }
  if (v instanceof Set) {
    w.tag(TAG.S);
    w.u32(v.size);
    for (const x of v) encodeValue(w, x, depth + 1);
    return undefined;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw new Unsupported(typeName(v));
  if (Object.getOwnPropertySymbols(v).some((s) => Object.prototype.propertyIsEnumerable.call(v, s))) {
    throw new Unsupported('an object with symbol keys');
  }
  const keys = Object.keys(v);
  if (proto === null) {
    w.tag(TAG.A);
    w.str('NullObject');
  }
  w.tag(TAG.m);
  return encodeEntries(w, v, keys, depth);
}

/** Reads one frame's body; every read is bounds-checked. */
class Reader {
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }

  left() {
    return this.buf.length - this.pos;
  }

  need(n) {
    if (n > this.left()) throw new Malformed('truncated value');
  }

  u8() {
    this.need(1);
    return this.buf[this.pos++];
  }

  u32() {
    this.need(4);
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return n;
  }

  /** A count of items each at least `each` bytes long: never more than the bytes left. */
  count(each) {
    const n = this.u32();
    if (n * each > this.left()) throw new Malformed('count larger than the frame');
    return n;
  }

  f64() {
    this.need(8);
    const x = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return x;
  }

  i64() {
    this.need(8);
    const x = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return x;
  }

  /** The body of an s (after its tag). */
  strBody() {
    const n = this.u32();
    this.need(n);
    const bytes = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return UTF8.decode(bytes);
    } catch (_) {
      throw new Malformed('a string that is not UTF-8');
    }
  }

  /** An s, tag included. */
  str() {
    if (this.u8() !== TAG.s) throw new Malformed('expected a string');
    return this.strBody();
  }

  end() {
    if (this.pos !== this.buf.length) throw new Malformed('trailing bytes after the value');
  }
}

function defineData(obj, key, value) {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Entries of an m with string keys into `obj` (a fresh plain or null-prototype object). */
function decodeStringMap(r, obj, depth) {
  const n = r.count(6); // each entry: an s key (>= 5 bytes) and a value (>= 1 byte)
  for (let i = 0; i < n; i++) {
    const k = r.str();
    if (hasOwn.call(obj, k)) throw new Malformed('a duplicate key');
    defineData(obj, k, decodeValue(r, depth + 1)); // define, never assign: "__proto__" stays data
  }
  return obj;
}

/** One value at nesting `depth`; builds plain data only. */
function decodeValue(r, depth) {
  if (depth > MAX_DEPTH) throw new Malformed('nesting deeper than 100');
  const tag = r.u8();
  switch (tag) {
    case TAG.N:
      return null;
    case TAG.U:
      return undefined;
    case TAG.TRUE:
      return true;
    case TAG.FALSE:
      return false;
    case TAG.d:
      return r.f64();
    case TAG.i:
      return r.i64();
    case TAG.s:
      return r.strBody();
    case TAG.l: {
      const n = r.count(1);
      const a = [];
      for (let i = 0; i < n; i++) a.push(decodeValue(r, depth + 1));
      return a;
    }
    case TAG.S: {
      const n = r.count(1);
      const s = new Set();
      for (let i = 0; i < n; i++) {
        s.add(decodeValue(r, depth + 1));
        if (s.size !== i + 1) throw new Malformed('a duplicate set element');
      }
      return s;
    }
    case TAG.m:
      return decodeStringMap(r, {}, depth);
    case TAG.A: {
      const type = r.str();
      if (type === 'BigInt') {
        const text = r.str();
        if (!HEX_BIGINT.test(text)) throw new Malformed('a BigInt that is not canonical hex');
        const v = text[0] === '-' ? -BigInt(text.slice(1)) : BigInt(text);
        if (v >= I64_MIN && v <= I64_MAX) throw new Malformed('a BigInt within i64 sent as A');
        return v;
      }
      if (type === 'NullObject') {
        if (r.u8() !== TAG.m) throw new Malformed('NullObject without m');
        return decodeStringMap(r, Object.create(null), depth); // as the encoder counts: A adds no level
      }
      if (type === 'Map') {
        if (r.u8() !== TAG.m) throw new Malformed('Map without m');
        const n = r.count(2);
        const m = new Map();
        for (let i = 0; i < n; i++) {
          const k = decodeValue(r, depth + 1);
          m.set(k, decodeValue(r, depth + 1));
          if (m.size !== i + 1) throw new Malformed('a duplicate Map key');
        }
        return m;
      }
      throw new Malformed('an A of an unknown type');
    }
    default:
      throw new Malformed(`tag ${tag} is not a JavaScript value`);
  }
}

// ---- messages ---------------------------------------------------------------

/** request, test -> program: t[ s op, s function, i handle, l args ] */
function encodeRequest(op, fn, handle, args) {
  const w = new Writer();
  w.tag(TAG.t);
  w.u32(4);
  w.str(op);
  w.str(fn);
  w.i64(BigInt(handle));
  w.tag(TAG.l);
  w.u32(args.length);
  for (let i = 0; i < args.length; i++) encodeValue(w, args[i], 3);
  return w.frame();
}

function decodeRequest(body) {
  const r = new Reader(body);
  if (r.u8() !== TAG.t || r.u32() !== 4) throw new Malformed('a request is t[4]');
  const op = r.str();
  const fn = r.str();
  if (r.u8() !== TAG.i) throw new Malformed('a request handle is i');
  const handle = r.i64();
  if (r.u8() !== TAG.l) throw new Malformed('request arguments are l');
  const n = r.count(1);
  const args = [];
  for (let i = 0; i < n; i++) args.push(decodeValue(r, 3));
  r.end();
  return { op, fn, handle, args };
}

/** reply, program -> test: t[ s "ok", value ] */
function encodeOk(value) {
  const w = new Writer();
  w.tag(TAG.t);
  w.u32(2);
  w.str('ok');
  encodeValue(w, value, 2);
  return w.frame();
}

/** reply, program -> test: t[ s "raised", s message ] (message cut to 4000 characters) */
function encodeRaised(message) {
  const w = new Writer();
  w.tag(TAG.t);
  w.u32(2);
  w.str('raised');
  w.str(String(message).slice(0, 4000).replace(/\p{Cs}/gu, '\uFFFD'));
  return w.frame();
}

/**
 * The reply to "names": l of t[s name, s "function"] or t[s name, s "value", value].
 * `entries` are [name, "function"] or [name, "value", body bytes of an encoded value].
 */
function encodeNames(entries) {
  const w = new Writer();
  w.tag(TAG.t);
  w.u32(2);
  w.str('ok');
  w.tag(TAG.l);
  w.u32(entries.length);
  for (const e of entries) {
    w.tag(TAG.t);
    w.u32(e.length === 3 ? 3 : 2);
    w.str(e[0]);
    w.str(e[1]);
    if (e.length === 3) w.raw(e[2]);
  }
  return w.frame();
}

/** Reads a reply envelope; `inner(r)` reads what follows "ok". */
function decodeReply(body, inner) {
  const r = new Reader(body);
  if (r.u8() !== TAG.t || r.u32() !== 2) throw new Malformed('a reply is t[2]');
  const status = r.str();
  let out;
  if (status === 'ok') out = { ok: true, value: inner(r) };
  else if (status === 'raised') out = { ok: false, message: r.str() };
  else throw new Malformed('a reply status is "ok" or "raised"');
  r.end();
  return out;
}

function decodeResult(body) {
  return decodeReply(body, (r) => decodeValue(r, 2));
}

/** The "names" reply as [{name, kind, value}] (names and kinds unchecked: the caller checks). */
function decodeNames(body) {
  return decodeReply(body, (r) => {
    if (r.u8() !== TAG.l) throw new Malformed('names are an l');
    const n = r.count(1 + 4 + 10);
    const out = [];
    for (let i = 0; i < n; i++) {
      if (r.u8() !== TAG.t) throw new Malformed('a name entry is a t');
      const size = r.u32();
      if (size !== 2 && size !== 3) throw new Malformed('a name entry is t[2] or t[3]');
      const name = r.str();
      const kind = r.str();
      if ((kind === 'function') !== (size === 2) || (kind !== 'function' && kind !== 'value')) {
        throw new Malformed('a name entry is "function" or "value" + value');
      }
      out.push({ name, kind, value: size === 3 ? decodeValue(r, 4) : undefined });
    }
    return out;
  });
}

// ---- frames on a blocking (or, slowly, non-blocking) descriptor ----------------

const fs = require('fs');
let pause = null;

/** Waits a millisecond (EAGAIN on a non-blocking descriptor). */
function nap() {
  if (!pause) pause = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(pause, 0, 0, 1);
}

function retryable(err) {
  return err && (err.code === 'EAGAIN' || err.code === 'EINTR');
}

/** Exactly n bytes, or null at end of file before the first byte; Malformed at end of file inside. */
function readExactly(fd, n) {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    let k;
    try {
      k = fs.readSync(fd, buf, got, n - got, null);
    } catch (err) {
      if (retryable(err)) {
        nap();
        continue;
      }
      throw err;
    }
    if (k === 0) {
      if (got === 0) return null;
      const e = new Error('end of file inside a frame');
      e.code = 'EOF_IN_FRAME';
      throw e;
    }
    got += k;
  }
  return buf;
}

/** The next frame's body; null at a clean end of file. Malformed for a bad length. */
function readFrame(fd) {
  const head = readExactly(fd, 4);
  if (head === null) return null;
  const n = head.readUInt32BE(0);
  if (n === 0 || n > MAX_FRAME) throw new Malformed(`frame length ${n}`);
  const body = readExactly(fd, n);
  if (body === null) {
    const e = new Error('end of file inside a frame');
    e.code = 'EOF_IN_FRAME';
    throw e;
  }
  return body;
}

function writeAll(fd, bytes) {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      if (retryable(err)) {
        nap();
        continue;
      }
      throw err;
    }
  }
}

/** Source text as node's module loader reads it: without a leading byte order mark (so a hashbang may follow). */
function stripBom(text) {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

module.exports = {
  stripBom,
  MAX_FRAME, MAX_DEPTH, Malformed, Unsupported, TooLarge, Writer, Reader, encodeValue, decodeValue,
  encodeRequest, decodeRequest, encodeOk, encodeRaised, encodeNames, decodeResult, decodeNames,
  readFrame, writeAll, typeName,
};
