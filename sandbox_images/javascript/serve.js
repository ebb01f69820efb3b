// The program side of a split JavaScript assertion test (docs/SPLIT_TESTS.md).
//
// Runs as the candidate uid: loads the program as a script of the main context
// (as node would run it, with `require` resolving the runtime's node_modules),
// then serves requests on fd 3 until end of file: "names" lists the program's
// top-level bindings (lexical ones through V8's inspector, which knows them
// exactly; var/function ones as new properties of globalThis), "call" calls one
// with decoded arguments. The test never runs here, so nothing in this process
// needs protecting from the program: a program that breaks this server only
// spoils its own replies, which the test side decodes strictly.
'use strict';

const { Object, Map, Set, String, Error } = globalThis; // before the program can shadow them
const fs = require('fs');
const path = require('path');
const wire = require('./wire.js');

const CHANNEL = 3;
const IDENT = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]{0,255}$/u;
const VALUE_LIMIT = 64 << 10; // a plain top-level value larger than this is not offered
const VALUES_LIMIT = 1 << 20; // nor any once the offered values reach this

function describe(err) {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return `thrown: ${String(err)}`;
  } catch (_) {
    return 'an exception that cannot be shown';
  }
}

/** The names of the main context's top-level let/const/class bindings. */
function lexicalNames() {
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  let names = [];
  try {
    // Session#post runs synchronously within the process: the callback has run when it returns.
    session.post('Runtime.globalLexicalScopeNames', {}, (err, res) => {
      if (!err && res && Array.isArray(res.names)) names = res.names;
    });
  } finally {
    session.disconnect();
  }
  return names;
}

function serve(programPath, runtimeDir) {
  const vm = require('vm');
  const reallyExit = process.reallyExit.bind(process);
  const before = new Set(Object.getOwnPropertyNames(globalThis));
  globalThis.require = require('module').createRequire(path.join(runtimeDir, 'program.js'));

  let loadError = null;
  try {
    vm.runInThisContext(wire.stripBom(fs.readFileSync(programPath, 'utf8')), { filename: 'program.js' });
  } catch (err) {
    loadError = `the program raised while loading: ${describe(err)}`;
  }

  let getters = null; // name -> () => current value of the binding
  function bindings() {
    if (getters) return getters;
    getters = new Map();
    const names = [];
    for (const n of lexicalNames()) names.push(n);
    for (const n of Object.getOwnPropertyNames(globalThis)) if (!before.has(n)) names.push(n);
    for (const n of names) {
      if (n === 'require' || getters.has(n) || !IDENT.test(n)) continue;
      try {
        getters.set(n, vm.runInThisContext(`(() => ${n})`, { filename: 'rlce-names.js' }));
      } catch (_) {
        // a name that is not an expression (a reserved word as a property name): not offered
      }
    }
    return getters;
  }

  function names() {
    const entries = [];
    let budget = VALUES_LIMIT;
    for (const [name, get] of bindings()) {
      let v;
      try {
        v = get();
      } catch (_) {
        continue; // in its temporal dead zone: the program raised before defining it
      }
      if (typeof v === 'function') {
        entries.push([name, 'function']);
        continue;
      }
      try {
        const w = new wire.Writer(Math.min(VALUE_LIMIT, budget));
        wire.encodeValue(w, v, 4);
        const body = w.body();
        budget -= body.length;
        entries.push([name, 'value', body]);
      } catch (_) {
        // a value the wire cannot carry (or too large): the test cannot use it
      }
    }
    return wire.encodeNames(entries);
  }

  function call(name, args) {
    const get = bindings().get(name);
    let fn;
    try {
      fn = get ? get() : undefined;
    } catch (_) {
      fn = undefined;
    }
    if (typeof fn !== 'function') return wire.encodeRaised(`the program defines no function ${name}`);
    let result;
    try {
      result = fn(...args);
    } catch (err) {
      return wire.encodeRaised(describe(err));
    }
    try {
      return wire.encodeOk(result);
    } catch (err) {
      if (err instanceof wire.Unsupported) return wire.encodeRaised(`${name} returned ${err.type}, which the wire cannot carry`);
      return wire.encodeRaised(`${name}'s result could not be read: ${describe(err)}`);
    }
  }

  for (;;) {
    let body;
    try {
      body = wire.readFrame(CHANNEL);
    } catch (_) {
      break;
    }
    if (body === null) break;
    let reply;
    try {
      const req = wire.decodeRequest(body);
      if (loadError !== null) reply = wire.encodeRaised(loadError);
      else if (req.op === 'names') reply = names();
      else if (req.op === 'call' && req.handle === 0n) reply = call(req.fn, req.args);
      else reply = wire.encodeRaised(`unsupported request ${req.op}`);
    } catch (err) {
      reply = wire.encodeRaised(`bad request: ${describe(err)}`);
    }
    try {
      wire.writeAll(CHANNEL, reply);
    } catch (_) {
      break;
    }
  }
  reallyExit(0);
}

module.exports = { serve };
