'use strict';
// Smoke test of the aarch64 addon, run with an arm64 Node under qemu-user by
// scripts/build/arm64.sh:
//
//   qemu-aarch64-static -L <sysroot> <arm64 node> scripts/smoke/arm64.js [addon.node] [expected buildLinux()]
//
// It loads the .node file directly, checks that it is an arm64 process, calls
// buildLinux() and tries to open a software counter; then (for the default
// file, when dist/ is built) it loads the facade and checks the loader's choice
// and the errors users see.
// qemu-user does not implement perf_event_open(2), so the counter must fail
// with ENOSYS; set ARM64_SMOKE_PERF=1 on real arm64 hardware, where it must open.

const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2]
  ? path.resolve(process.argv[2])
  : path.join(__dirname, '..', '..', 'perf-event-open.linux-arm64-gnu.node');
const expectedLinux = process.argv[3] || '';
const expectPerf = process.env.ARM64_SMOKE_PERF === '1';

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

console.log(`node ${process.version} platform=${process.platform} arch=${process.arch}`);
console.log(`process.arch: ${process.arch}`);
check(process.arch === 'arm64', `process.arch is arm64 (got ${process.arch})`);

console.log(`loading ${file}`);
let binding;
try {
  binding = require(file);
} catch (err) {
  console.log(`FAIL require(): ${err && err.stack ? err.stack : err}`);
  console.log('arm64 smoke: FAILED');
  process.exit(1);
}
console.log(`exports: ${Object.keys(binding).sort().join(', ')}`);

check(typeof binding.buildLinux === 'function', 'buildLinux is a function');
if (typeof binding.buildLinux === 'function') {
  const v = binding.buildLinux();
  console.log(`buildLinux(): ${JSON.stringify(v)}`);
  check(typeof v === 'string' && /^\d+\.\d+$/.test(v), 'buildLinux() returns "major.minor"');
  if (expectedLinux) check(v === expectedLinux, `buildLinux() === ${JSON.stringify(expectedLinux)}`);
}

check(typeof binding.NativeCounter === 'function', 'NativeCounter is a class');
if (typeof binding.NativeCounter === 'function') {
  let counter;
  let error;
  try {
    counter = new binding.NativeCounter({ type: 'software', name: 'taskClock' }, { pid: 0, cpu: -1 }, {});
  } catch (err) {
    error = err;
  }
  if (expectPerf) {
    check(counter !== undefined, `new NativeCounter(taskClock) opens${error ? ` (threw ${error.code}: ${error.message})` : ''}`);
  } else if (error) {
    console.log(`new NativeCounter(taskClock) threw: code=${JSON.stringify(error.code)} message=${JSON.stringify(error.message)}`);
    check(error.code === 'ENOSYS', 'perf_event_open fails with ENOSYS under qemu-user');
  } else {
    check(false, 'new NativeCounter(taskClock) was expected to throw ENOSYS under qemu-user, but it opened');
  }
  if (counter && typeof counter.close === 'function') counter.close();
}

// The facade, as users load it: the loader must pick the arm64 build by itself, and the
// tests that need no perf_event_open (argument errors, event parsing, error mapping) hold.
const facadePath = path.join(__dirname, '..', '..', 'dist', 'index.js');
const defaultFile = path.join(__dirname, '..', '..', 'perf-event-open.linux-arm64-gnu.node');
if (file === defaultFile && fs.existsSync(facadePath) && !expectPerf) {
  const p = require(facadePath);
  const info = p.buildInfo();
  console.log(`facade buildInfo(): ${JSON.stringify(info)}`);
  check(info.target === 'aarch64-unknown-linux-gnu', 'the loader chose the aarch64-unknown-linux-gnu target');
  check(info.path.endsWith('perf-event-open.linux-arm64-gnu.node'), 'the loader loaded the arm64 .node');
  let err;
  try {
    new p.Counter('task-clock');
  } catch (e) {
    err = e;
  }
  console.log(`new Counter('task-clock') threw: ${err && err.name} ${err && err.code}\n  ${err && err.message.split('\n').join('\n  ')}`);
  check(err instanceof p.PerfEventError && err.code === 'ENOSYS' && err.errno === 38, 'Counter fails with PerfEventError ENOSYS (errno 38)');
  check(err && /qemu-user/.test(err.hint || ''), 'the ENOSYS hint names qemu-user emulation');
  let typeErr;
  try {
    new p.Counter('task-clock', {}, { enable: 'yes' });
  } catch (e) {
    typeErr = e;
  }
  check(typeErr instanceof TypeError && /options\.enable/.test(typeErr.message), 'bad options are TypeErrors naming the field');
  check(p.parseEvent('instructions:u').native.name === 'instr', 'event strings parse');
  let unknown;
  try {
    p.parseEvent('no-such-event');
  } catch (e) {
    unknown = e;
  }
  check(unknown && unknown.code === 'ERR_UNKNOWN_EVENT', 'unknown events fail with ERR_UNKNOWN_EVENT');
}

if (failures > 0) {
  console.log(`arm64 smoke: FAILED (${failures} failed check${failures === 1 ? '' : 's'})`);
  process.exit(1);
}
console.log('arm64 smoke: ok');
