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

const nonce = fs.readFileSync(3);
fs.closeSync(3);
if (nonce.length !== 32) process.reallyExit(111); // someone read it first

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
try {
  vm.runInThisContext(source, { filename: 'main.js' });
} catch (err) {
  try {
    process.stderr.write(String((err && err.stack) || err) + '\n');
  } catch (_) {}
  process.reallyExit(err instanceof AssertionFailed ? 3 : 4);
}
fs.writeSync(4, nonce);
fs.closeSync(4);
