// Entry of every node process of a split JavaScript assertion test:
//   node split.js check <program.js>   the program build: a syntax check, as a script
//   node split.js serve <program.js>   the program side (serve.js), candidate uid
//   node split.js judge <test.js>      the test side (judge.js), judge uid
// The image also builds it into V8 startup snapshots (Dockerfile), run as
//   node --snapshot-blob split.blob check|judge <file>
//   node --snapshot-blob serve-<mb>.blob --max-old-space-size=<mb> serve <file>   (serve.sh)
// which saves most of node's start-up (Debian's node has no built-in snapshot).
// A snapshot's entry may require only node's built-in modules, so the
// runtime's own files are loaded here by a minimal CommonJS loader.
'use strict';

const fs = require('fs');
const path = require('path');
const v8 = require('v8');

const DIR = __dirname;
const loaded = new Map();

function load(name) {
  const file = path.join(DIR, path.basename(name));
  if (loaded.has(file)) return loaded.get(file).exports;
  const module = { exports: {} };
  loaded.set(file, module);
  const body = new Function('module', 'exports', 'require', `${fs.readFileSync(file, 'utf8')}\n//# sourceURL=${file}`);
  body(module, module.exports, (n) => (n.startsWith('./') ? load(n) : require(n)));
  return module.exports;
}

const { stripBom } = load('./wire.js');
const { serve } = load('./serve.js');
const { judge } = load('./judge.js');

/** The program build's syntax check: the program as the script serve.js will run (exit 1 if it does not parse). */
function check(file) {
  const vm = require('vm');
  try {
    new vm.Script(stripBom(fs.readFileSync(file, 'utf8')), { filename: path.basename(file) }); // eslint-disable-line no-new
  } catch (err) {
    // V8's decorated message (file:line, the line, a caret, the error) without our own stack frames
    const text = String((err && err.stack) || err).split('\n').filter((l) => !/^\s+at /.test(l)).join('\n');
    process.stderr.write(`${text.trimEnd()}\n`);
    return process.reallyExit(1);
  }
  return undefined;
}

function main(args) {
  const [role, file] = args;
  if (role === 'check' && file) return check(file);
  if (role === 'serve' && file) return serve(file, DIR);
  if (role === 'judge' && file) return judge(file, DIR);
  process.stderr.write('usage: split.js check|serve <program.js> | judge <test.js>\n');
  return process.reallyExit(2);
}

if (v8.startupSnapshot && v8.startupSnapshot.isBuildingSnapshot()) {
  v8.startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)));
} else {
  main(process.argv.slice(2));
}
