// Entry of every node process of a split JavaScript assertion test:
//   node split.js check <program.js>   the program build: a syntax check, as a script
//   node split.js builds               the same check as a build server: one after another
//   node split.js serve <program.js>   the program side (serve.js), candidate uid
//   node split.js judge <test.js>      the test side (judge.js), judge uid
// The image also builds it into V8 startup snapshots (Dockerfile), run as
//   node --snapshot-blob split.blob check|judge <file>
//   node --snapshot-blob serve-<mb>.blob --max-old-space-size=<mb> serve <file>   (node --rlce-serve: prefork.c)
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

/** Why the program does not parse as the script serve.js will run ('' if it does). */
function syntaxError(file) {
  const vm = require('vm');
  try {
    new vm.Script(stripBom(fs.readFileSync(file, 'utf8')), { filename: path.basename(file) }); // eslint-disable-line no-new
  } catch (err) {
    // V8's decorated message (file:line, the line, a caret, the error) without our own stack frames
    const text = String((err && err.stack) || err).split('\n').filter((l) => !/^\s+at /.test(l)).join('\n');
    return `${text.trimEnd()}\n`;
  }
  return '';
}

/** The program build's syntax check (exit 1 if it does not parse). */
function check(file) {
  const said = syntaxError(file);
  if (said) {
    process.stderr.write(said);
    return process.reallyExit(1);
  }
  return undefined;
}

/**
 * The check as the runtime's build server (docs/RUNTIMES.md, "Build servers"): a node start is
 * most of a check's cost, so one warm process checks one build after another. Requests on stdin,
 * [count][dir][step argv...] (each an int32 length and UTF-8 bytes); answers on stdout,
 * [exit code][ending][length][what the step printed]. The file is the argument after "check".
 */
const SERVED_OUTPUT = 64 * 1024;

function builds() {
  let buf = Buffer.alloc(0);
  const chunk = Buffer.alloc(1 << 16);
  const need = (n) => {
    while (buf.length < n) {
      const got = fs.readSync(0, chunk, 0, chunk.length, null);
      if (got === 0) return false;
      buf = Buffer.concat([buf, chunk.subarray(0, got)]);
    }
    return true;
  };
  for (;;) {
    if (!need(4)) return process.reallyExit(0);
    const count = buf.readInt32BE(0);
    buf = buf.subarray(4);
    if (count < 2 || count > 64) return process.reallyExit(2);
    const parts = [];
    for (let i = 0; i < count; i++) {
      if (!need(4)) return process.reallyExit(2);
      const len = buf.readInt32BE(0);
      if (len < 0 || len > 65536 || !need(4 + len)) return process.reallyExit(2);
      parts.push(buf.subarray(4, 4 + len).toString('utf8'));
      buf = buf.subarray(4 + len);
    }
    const at = parts.indexOf('check', 1);
    let code = 2;
    let said = 'rlce: a build server step must be a check of one file\n';
    if (at > 0 && at + 1 < parts.length) {
      said = syntaxError(path.resolve(parts[0], parts[at + 1]));
      code = said ? 1 : 0;
    }
    // what a check says quotes the program (V8 prints the offending line, which may be the whole
    // program): its last SERVED_OUTPUT bytes, as the Java server keeps, so that an answer never
    // passes the runner's bound (build_server.ANSWER_MAX_BYTES) whatever the program is
    const full = Buffer.from(said, 'utf8');
    const text = full.length > SERVED_OUTPUT ? full.subarray(full.length - SERVED_OUTPUT) : full;
    const head = Buffer.alloc(12);
    head.writeInt32BE(code, 0);
    head.writeInt32BE(0, 4); // ending: never (a check keeps nothing of one build for the next)
    head.writeInt32BE(text.length, 8);
    const answer = Buffer.concat([head, text]);
    for (let off = 0; off < answer.length; ) off += fs.writeSync(1, answer, off);
  }
}

function main(args) {
  const [role, file] = args;
  if (role === 'check' && file) return check(file);
  if (role === 'builds') return builds();
  if (role === 'serve' && file) return serve(file, DIR);
  if (role === 'judge' && file) return judge(file, DIR);
  process.stderr.write('usage: split.js check|serve <program.js> | judge <test.js> | builds\n');
  return process.reallyExit(2);
}

if (v8.startupSnapshot && v8.startupSnapshot.isBuildingSnapshot()) {
  v8.startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)));
} else {
  main(process.argv.slice(2));
}
