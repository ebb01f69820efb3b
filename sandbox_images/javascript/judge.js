// The test side of a split JavaScript assertion test (docs/SPLIT_TESTS.md).
//
// Runs as the judge uid; no program code ever runs in this process. It reads
// the runner's nonce (fd 3) before anything else, hashes the test file it
// loads, asks the program process (fd 5) for the names of its top-level
// bindings, binds a stub per function (and a decoded copy per plain value) as
// globals of this context (never a name the context already has), gives the
// test a console whose assert throws (as rlce's JavaScript tests always had),
// runs the test as a script of this context, and only if it ran to its end
// writes nonce + digest to fd 4 and exits 0.
//
// A stub call that cannot finish ends the process at once with the contract's
// code, never with an exception the test could catch: 112 malformed reply,
// 113 an argument the wire cannot carry, 117 one too large or deep to carry, 115 the program raised, 116 the
// program's process is gone. A failed assertion (console.assert or node's
// assert module) exits 3; any other exception of the test exits 4.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const wire = require('./wire.js');

const NONCE = 3;
const RECORD = 4;
const CHANNEL = 5;
const EXIT_ASSERT = 3;
const EXIT_CRASH = 4;
const IDENT = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]{0,255}$/u;
// Not on globalThis, yet a test may mean them as node's own.
const NEVER_BOUND = new Set(['require', 'module', 'exports', '__filename', '__dirname', 'assert', 'arguments']);

class AssertionFailed extends Error {}
AssertionFailed.prototype.name = 'AssertionError';

/** True when the test is nothing but white space, comments and semicolons (exit 114). */
function definesNothing(source) {
  const skip = /\s+|;+|\/\/[^\n\r\u2028\u2029]*|\/\*[\s\S]*?\*\/|^#![^\n\r\u2028\u2029]*/y;
  let at = 0;
  for (;;) {
    skip.lastIndex = at;
    if (!skip.test(source)) break;
    at = skip.lastIndex;
  }
  return at === source.length;
}

function judge(testPath, runtimeDir) {
  const vm = require('vm');
  const reallyExit = process.reallyExit.bind(process);
  const say = (text) => {
    try {
      fs.writeSync(2, `${text}\n`);
    } catch (_) {
      // stderr closed: the exit code still tells
    }
  };
  const die = (code, text) => {
    say(text);
    reallyExit(code);
  };

  // The nonce, before any test code: to end of file, exactly 32 bytes.
  let nonce = null;
  try {
    nonce = fs.readFileSync(NONCE);
    fs.closeSync(NONCE);
  } catch (_) {
    nonce = null;
  }
  if (nonce === null || nonce.length !== 32) die(111, 'rlce: the nonce was not there to read');

  const bytes = fs.readFileSync(testPath);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  const source = wire.stripBom(bytes.toString('utf8'));
  if (definesNothing(source)) die(114, 'rlce: the test defines no test');

  function shown(err) {
    try {
      const at = /test\.js:(\d+)/.exec(String(err && err.stack)) || [];
      const oneLine = String(err && err.message).replace(/\s*\n\s*/g, ' ');
      return `${(err && err.stack) || err}\n${err && err.name}: ${oneLine}${at[1] ? ` (test.js line ${at[1]})` : ''}`;
    } catch (_) {
      return 'the test raised an exception that cannot be shown';
    }
  }

  function fail(err) {
    let assertion = err instanceof AssertionFailed;
    if (!assertion) {
      try {
        assertion = err instanceof require('assert').AssertionError;
      } catch (_) {
        assertion = false;
      }
    }
    die(assertion ? EXIT_ASSERT : EXIT_CRASH, shown(err));
  }

  let script;
  try {
    script = new vm.Script(source, { filename: 'test.js' });
  } catch (err) {
    fail(err);
  }

  /** Sends one request frame and returns the reply's body. */
  function exchange(frame, what) {
    try {
      wire.writeAll(CHANNEL, frame);
    } catch (err) {
      die(116, `rlce: the program's process was gone at ${what} (${err && err.code})`);
    }
    let body = null;
    try {
      body = wire.readFrame(CHANNEL);
    } catch (err) {
      if (err instanceof wire.Malformed) die(112, `rlce: the program sent a malformed frame at ${what}: ${err.message}`);
      die(116, `rlce: the program's process ended during ${what} (${err && err.code})`);
    }
    if (body === null) die(116, `rlce: the program's process ended during ${what}`);
    return body;
  }

  function callProgram(name, args) {
    let frame;
    try {
      frame = wire.encodeRequest('call', name, 0, args);
    } catch (err) {
      if (err instanceof wire.TooLarge) die(117, `rlce: a value too large to carry: function ${name}: ${err.type}`);
      if (err instanceof wire.Unsupported) die(113, `rlce: unsupported: function ${name}: type ${err.type}`);
      throw err;
    }
    const body = exchange(frame, `a call of ${name}`);
    let reply;
    try {
      reply = wire.decodeResult(body);
    } catch (err) {
      die(112, `rlce: the program sent a malformed value from ${name}: ${err && err.message}`);
    }
    if (!reply.ok) die(115, `rlce: ${name} raised: ${JSON.stringify(reply.message.slice(0, 2000))}`);
    return reply.value;
  }

  function stub(name) {
    const f = function (...args) {
      return callProgram(name, args);
    };
    Object.defineProperty(f, 'name', { value: name });
    return f;
  }

  // The program's names, bound where the test looks them up: as configurable
  // properties of globalThis, so the test's own declarations of the same
  // names still win.
  let names = null;
  try {
    names = wire.decodeNames(exchange(wire.encodeRequest('names', '', 0, []), 'the names request'));
  } catch (err) {
    die(112, `rlce: the program sent malformed names: ${err && err.message}`);
  }
  if (!names.ok) die(115, `rlce: ${JSON.stringify(names.message.slice(0, 2000))}`);
  const seen = new Set();
  for (const { name, kind, value } of names.value) {
    if (!IDENT.test(name) || seen.has(name)) die(112, 'rlce: the program sent a bad or repeated name');
    seen.add(name);
    if (name in globalThis || NEVER_BOUND.has(name)) continue;
    Object.defineProperty(globalThis, name, {
      value: kind === 'function' ? stub(name) : value,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }

  // Node only prints a failing console.assert; rlce's tests have always thrown.
  const testConsole = Object.create(console);
  Object.defineProperty(testConsole, 'assert', {
    value: function assert(value, ...message) {
      if (!value) throw new AssertionFailed(message.length ? message.join(' ') : 'Assertion failed');
    },
    enumerable: true,
  });
  Object.defineProperty(globalThis, 'console', { value: testConsole, writable: true, configurable: true });
  globalThis.require = require('module').createRequire(path.join(runtimeDir, 'test.js'));

  // An async part of the test may still fail after the script returns: the
  // record goes out only when the process ends normally with status 0.
  let ranToEnd = false;
  process.on('uncaughtException', fail);
  process.on('exit', (code) => {
    if (code !== 0 || !ranToEnd) return;
    fs.writeSync(RECORD, Buffer.concat([nonce, Buffer.from(digest, 'latin1')]));
    fs.closeSync(RECORD);
  });
  try {
    script.runInThisContext();
  } catch (err) {
    fail(err);
  }
  ranToEnd = true;
}

module.exports = { judge, definesNothing };
