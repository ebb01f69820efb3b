// rlce's JavaScript self-test program: a function for the assertion
// self-test, and a stdin sum when it runs as the main module of a stdio test.
const add = (a, b) => a + b;

if (typeof module !== 'undefined' && require.main === module) {
  const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\s+/).map(Number);
  console.log(add(a, b));
}
