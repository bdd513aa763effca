// Benchmarks (not tests): prints figures with the native baseline measured in the same run.
//   node bench/run.js            (npm run bench builds first)
// 1. stat() latency from JS vs Counter::stat() in a native Rust loop (bench/native).
// 2. require('perf-event-open') to first counter read, in fresh processes.
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const ITER = Number(process.env.BENCH_ITER ?? 200_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function nativeBaseline() {
  const dir = path.join(__dirname, 'native')
  execFileSync('cargo', ['build', '--release', '--quiet'], { cwd: dir, stdio: 'inherit' })
  const out = execFileSync(path.join(dir, 'target/release/perf-event-open-bench-native'), [String(ITER), String(RUNS)], { encoding: 'utf8' })
  return JSON.parse(out)
}

function jsStat() {
  const { Counter } = require('perf-event-open')
  const c = new Counter('task-clock')
  c.enable()
  for (let i = 0; i < 20_000; i++) c.stat() // warm up the JIT
  const perRun = []
  for (let r = 0; r < RUNS; r++) {
    let sink = 0n
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < ITER; i++) sink += c.stat().count
    perRun.push(Number(process.hrtime.bigint() - t0) / ITER)
    if (sink === -1n) console.log(sink)
  }
  c.close()
  return perRun
}

function requireToFirstCounter() {
  const script = `const t0 = process.hrtime.bigint(); const { Counter } = require('perf-event-open'); const c = new Counter('task-clock'); c.enable(); c.stat(); console.log(Number(process.hrtime.bigint() - t0) / 1e6)`
  const runs = []
  for (let r = 0; r < RUNS; r++) runs.push(Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..') })))
  return runs
}

// Interleave native and JS rounds so that both see the same machine state.
const nativeRuns = []
const jsRuns = []
for (let round = 0; round < 3; round++) {
  nativeRuns.push(median(nativeBaseline()))
  jsRuns.push(median(jsStat()))
}
const nat = median(nativeRuns)
const js = median(jsRuns)
console.log(`stat() latency: JS ${js.toFixed(1)} ns/op, native Rust ${nat.toFixed(1)} ns/op, ratio ${(js / nat).toFixed(2)}x (goal <= 1.25x)`)
console.log(`  rounds (median of ${RUNS} runs x ${ITER} reads each): JS [${jsRuns.map((x) => x.toFixed(1))}] native [${nativeRuns.map((x) => x.toFixed(1))}]`)
const req = requireToFirstCounter()
console.log(`require() to first counter read: median ${median(req).toFixed(1)} ms over ${RUNS} fresh processes [${req.map((x) => x.toFixed(1))}] (goal <= 20 ms)`)
