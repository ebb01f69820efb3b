// rlce's harness for JavaScript assertion tests; see docs/SECURITY.md, "Compiled runtimes".
//
// Node only prints a failing console.assert; here it throws, and console.assert
// can be neither replaced nor shadowed. The names a test relies on (console,
// JSON, Object, ...) are bound as global constants before the program runs, so
// a program's `let console` or `var JSON` is a SyntaxError and assignments to
// them fail; node runs with --frozen-intrinsics, so JSON.stringify,
// Array.prototype and friends cannot be patched either. The runner's nonce (fd 3) is read before any program
// code runs and is held only in this module's scope, which program code
// cannot reach; it goes back on fd 4 once the program and test ran to their end.
'use strict';
const fs = require('fs');
const vm = require('vm');

// Taken before any program code runs: a program may replace process.reallyExit
// or fs.writeSync, never these references.
const reallyExit = process.reallyExit.bind(process);
const { writeSync, closeSync } = fs;

const nonce = fs.readFileSync(3);
closeSync(3);
if (nonce.length !== 32) reallyExit(111); // someone read it first

class AssertionFailed extends Error {}
const strictAssert = function assert(value, ...message) {
  if (!value) throw new AssertionFailed(message.length ? message.join(' ') : 'Assertion failed');
};

// node --frozen-intrinsics freezes console itself, so the test gets its own
// frozen console whose assert throws, bound as a global constant below.
const testConsole = Object.create(console);
Object.defineProperty(testConsole, 'assert', { value: strictAssert, enumerable: true });
Object.freeze(testConsole);

const GUARDED = [
  'JSON', 'Math', 'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt',
  'Map', 'Set', 'WeakMap', 'WeakSet', 'Error', 'TypeError', 'RangeError', 'Reflect', 'Proxy',
  'Function', 'Promise', 'Date', 'RegExp', 'isNaN', 'isFinite', 'parseInt', 'parseFloat',
];
globalThis.__rlceConsole = testConsole;
vm.runInThisContext(
  'const console = globalThis.__rlceConsole;\n' + GUARDED.map((n) => `const ${n} = globalThis.${n};`).join('\n'),
  { filename: 'rlce-guards.js' },
);
delete globalThis.__rlceConsole;
globalThis.require = require; // as in a CommonJS main module

const [programPath, testPath] = process.argv.slice(2);
const source = fs.readFileSync(programPath, 'utf8') + '\n;\n' + fs.readFileSync(testPath, 'utf8');
let passed = false;
try {
  vm.runInThisContext(source, { filename: 'main.js' });
  passed = true;
} catch (err) {
  let shown = String(err);
  try {
    const at = /main\.js:(\d+)/.exec(String(err && err.stack)) || [];
    shown = `${(err && err.stack) || err}\n${err && err.name}: ${err && err.message}` + (at[1] ? ` (main.js line ${at[1]})` : '');
  } catch (_) {}
  try {
    writeSync(2, shown + '\n');
  } catch (_) {}
  reallyExit(err instanceof AssertionFailed ? 3 : 4);
}
// The only way here: the program and the test ran to their end.
if (passed) {
  writeSync(4, nonce);
  closeSync(4);
}
