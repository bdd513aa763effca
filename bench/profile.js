// Profiling benchmarks (measured, never asserted):
//  1. overhead at 999 Hz on CPU-bound JS vs unprofiled, beside `perf record -F 999 -g` and V8's
//     CPU profiler (`node --cpu-prof`, 1 ms interval) on the same workload;
//  2. symbolize + export of ~100 k samples vs `perf report` / `perf script` on the same samples.
// CPU time of every thread of the measured process (/proc/self/task/*/schedstat), medians of
// interleaved rounds. Needs `perf` (Debian linux-perf) for the perf columns.
//   node bench/profile.js [overhead|symbolize]   BENCH_ROUNDS=5  BENCH_CHUNKS=100 (work chunks of ~10 ms: 100 = ~1 s profiled)
const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const DIST = path.join(__dirname, '..', 'dist', 'index.js')
/** BENCH_BEFORE=<dist dir of another build>: its profiler as one more interleaved mode (before/after figures from one run). */
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE, 'index.js') : undefined
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'))
const hasPerf = spawnSync('sh', ['-c', 'command -v perf']).status === 0

/** The workload's preamble: process CPU (all threads, ns) and a CPU-bound JS loop in chunks that yield. */
const PRELUDE = `
const fs = require('node:fs')
function processCpuNs() {
  let t = 0
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try { t += Number(fs.readFileSync('/proc/self/task/' + tid + '/schedstat', 'utf8').split(' ')[0]) } catch {}
  }
  return t
}
function leaf(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + (x % 7)); return x }
function hotA() { return leaf(30000) }
function hotB() { return leaf(10000) }
async function work() {
  let s = 0
  for (let chunk = 0; chunk < ${Number(process.env.BENCH_CHUNKS ?? 100)}; chunk++) {
    for (let i = 0; i < 10; i++) s += hotA() + hotB()
    await new Promise((r) => setImmediate(r)) // lets the profiler drain, as a server's event loop would
  }
  return s
}
`

function runNode(name, body, nodeArgs = [], wrap = []) {
  const script = path.join(dir, `${name}.js`)
  fs.writeFileSync(script, PRELUDE + body)
  const argv = [...wrap, process.execPath, ...nodeArgs, script]
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: dir, maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}\n${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

const PLAIN = `
;(async () => { await work(); const t0 = processCpuNs(); await work(); console.log(JSON.stringify({ ns: processCpuNs() - t0 })) })()
`
const ours = (dist) => `
const { Profiler } = require(${JSON.stringify(dist)})
;(async () => {
  await work()
  const p = new Profiler({ freq: 999 })
  const t0 = processCpuNs()
  p.start()
  await work()
  const t1 = processCpuNs()
  const prof = await p.stop()
  console.log(JSON.stringify({ ns: t1 - t0, samples: prof.sampleCount, lost: prof.lost.count }))
})()
`

function overhead() {
  const modes = {
    unprofiled: () => runNode('plain', PLAIN),
    'perf-event-open 999 Hz': () => runNode('ours', ours(DIST), ['--perf-basic-prof']),
    ...(BEFORE ? { 'BENCH_BEFORE 999 Hz': () => runNode('before', ours(BEFORE), ['--perf-basic-prof']) } : {}),
    ...(hasPerf ? { 'perf record -F 999 -g': () => runNode('plain', PLAIN, ['--perf-basic-prof'], ['perf', 'record', '-q', '-F', '999', '-g', '-o', path.join(dir, 'o.data'), '--']) } : {}),
    // V8's CPU profiler samples every 1000 µs by default; its sampling thread is part of the process CPU.
    'node --cpu-prof (1 ms)': () => runNode('plain', PLAIN, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '1001']),
  }
  const ns = Object.fromEntries(Object.keys(modes).map((k) => [k, []]))
  let info = ''
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, run] of Object.entries(modes)) {
      const out = run()
      ns[k].push(out.ns)
      if (out.samples !== undefined && k.startsWith('perf-event-open')) info = `${out.samples} samples, ${out.lost} lost`
    }
  }
  const base = median(ns.unprofiled)
  console.log(`profiling overhead on CPU-bound JS (process CPU of the same work, ~${Number(process.env.BENCH_CHUNKS ?? 100) / 100} s, median of ${ROUNDS} interleaved rounds):`)
  for (const [k, xs] of Object.entries(ns)) {
    const m = median(xs)
    console.log(`  ${k.padEnd(24)} ${(m / 1e6).toFixed(1).padStart(7)} ms  ${k === 'unprofiled' ? '' : `${((m / base - 1) * 100).toFixed(1)} % over unprofiled`}   [${xs.map((x) => (x / 1e6).toFixed(0))}]`)
  }
  console.log(`  (perf-event-open: ${info} in the last round; goal: <= perf record + 1 point and below --cpu-prof)`)
  if (!hasPerf) console.log('  perf record: skipped (perf not installed: apt-get install linux-perf)')
}

// ~100 k samples: sys_enter_getppid on every call (process.ppid), one JS function making the calls.
const MANY = `
const { Profiler } = require(${JSON.stringify(DIST)})
function caller(n) { let s = 0; for (let i = 0; i < n; i++) s += process.ppid; return s }
;(async () => {
  caller(1000)
  const p = new Profiler({ event: 'syscalls:sys_enter_getppid', period: 1, kernel: false, ringExp: 12 })
  p.start()
  for (let i = 0; i < 100; i++) { caller(1000); await new Promise((r) => setImmediate(r)) }
  const c0 = processCpuNs(), w0 = process.hrtime.bigint()
  const prof = await p.stop()
  const c1 = processCpuNs(), w1 = process.hrtime.bigint()
  const pb = prof.toPprof()
  const c2 = processCpuNs()
  const folded = prof.toFolded()
  const c3 = processCpuNs()
  const svg = await prof.toSvg()
  const c4 = processCpuNs()
  const fx = await prof.toFirefox()
  const c5 = processCpuNs()
  console.log(JSON.stringify({ samples: prof.sampleCount, lost: prof.lost.count, frames: prof.frames.length, stop: c1 - c0, stopWall: Number(w1 - w0), pprof: c2 - c1, folded: c3 - c2, svg: c4 - c3, firefox: c5 - c4, sizes: [pb.length, folded.length, svg.length, fx.length] }))
})()
`

function cpuOf(cmd) {
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; { time ${cmd} > /dev/null 2>/dev/null; } 2>&1`], { encoding: 'utf8', cwd: dir })
  const [u, s] = r.stdout.trim().split('\n').pop().split(' ').map(Number)
  return (u + s) * 1e9
}

function symbolize() {
  const rows = { stop: [], pprof: [], folded: [], svg: [], firefox: [], perfReport: [], perfScript: [] }
  let last
  for (let r = 0; r < ROUNDS; r++) {
    const data = path.join(dir, 'many.data')
    const wrap = hasPerf ? ['perf', 'record', '-q', '-e', 'syscalls:sys_enter_getppid', '-c', '1', '--call-graph', 'fp', '--user-callchains', '-o', data, '--'] : []
    last = runNode('many', MANY, ['--perf-basic-prof'], wrap)
    for (const k of ['stop', 'pprof', 'folded', 'svg', 'firefox']) rows[k].push(last[k])
    if (hasPerf) {
      rows.perfReport.push(cpuOf(`perf report -i ${data} --stdio --sort sym`))
      rows.perfScript.push(cpuOf(`perf script -i ${data}`))
    }
  }
  const ms = (xs) => (xs.length ? `${(median(xs) / 1e6).toFixed(0)} ms` : 'n/a')
  console.log(`symbolize + export of ${last.samples} samples (${last.frames} distinct frames, ${last.lost} lost; process CPU, median of ${ROUNDS}):`)
  console.log(`  perf-event-open: stop() = drain + symbolize ${ms(rows.stop)} (wall ${(last.stopWall / 1e6).toFixed(0)} ms), pprof ${ms(rows.pprof)}, folded ${ms(rows.folded)}, SVG ${ms(rows.svg)}, Firefox ${ms(rows.firefox)}`)
  const ours = median(rows.stop) + median(rows.pprof)
  if (hasPerf) {
    console.log(`  perf report --stdio: ${ms(rows.perfReport)}, perf script: ${ms(rows.perfScript)} on the same run's ${last.samples} samples (perf record beside ours)`)
    console.log(`  ratio: (stop + pprof) / perf report = ${(ours / median(rows.perfReport)).toFixed(2)}x (goal < 1)`)
  } else console.log('  perf report: skipped (perf not installed: apt-get install linux-perf)')
  console.log(`  sizes: pprof ${last.sizes[0]} B, folded ${last.sizes[1]} B, SVG ${last.sizes[2]} B, Firefox ${last.sizes[3]} B`)
}

const which = process.argv[2]
if (!which || which === 'overhead') overhead()
if (!which || which === 'symbolize') symbolize()
fs.rmSync(dir, { recursive: true, force: true })
