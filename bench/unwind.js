// User-stack unwinding cost per sample (measured, never asserted):
//  ours: a `node --perf-basic-prof` workload (JS that reads /dev/zero through libc's read, and JS
//        compute) samples itself by cpu-clock at 999 Hz with a 16 KiB user stack and the unwinder's
//        registers, then unwinds its own samples with StackUnwinder (lib/profile/unwind.ts):
//        a cold pass (a new unwinder: /proc/<pid>/maps and every module's unwind sections read)
//        and warm passes (the same unwinder), then the profiler's user symbolizer on the unwound
//        addresses. CPU time of the unwinding thread, per sample; medians of BENCH_ROUNDS rounds.
//  perf: `perf record --call-graph dwarf,16384 -F 999 -e cpu-clock` of the same workload, then
//        `perf report --stdio` of that file (unwinds with its DWARF unwinder and symbolizes, kernel
//        frames too): user + system CPU time of `perf report`, per sample, median of the rounds.
// Both sides copy the same 16 KiB of stack per sample in the kernel; that cost is not in either column.
//   node bench/unwind.js     BENCH_ROUNDS=5  BENCH_CPU_MS=1000 (CPU time of the sampled workload)
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const DIST = path.join(__dirname, '..', 'dist')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const CPU_MS = Number(process.env.BENCH_CPU_MS ?? 1000)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-unwind-'))
const hasPerf = fs.existsSync('/usr/bin/perf')

const WORKLOAD = `
const fs = require('node:fs')
function cpuNs() { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) }
const fd = fs.openSync('/dev/zero', 'r')
const buf = Buffer.alloc(1 << 16)
function readsThroughLibc() { for (let i = 0; i < 20; i++) fs.readSync(fd, buf, 0, buf.length, null) }
function leaf(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + (x % 7)); return x }
function compute() { return leaf(20000) }
/** ms of this thread's CPU time, in chunks of about 20 ms; after each chunk, between(). */
function work(ms, between = () => {}) {
  const end = cpuNs() + ms * 1e6
  let s = 0
  while (cpuNs() < end) {
    const chunk = cpuNs() + 2e7
    while (cpuNs() < chunk) { readsThroughLibc(); s += compute() }
    between()
  }
  return s
}
`

const OURS = `
const { Counter } = require(${JSON.stringify(path.join(DIST, 'index.js'))})
const { StackUnwinder, UNWIND_REGS_MASK } = require(${JSON.stringify(path.join(DIST, 'profile', 'unwind.js'))})
const { userSymbolizer } = require(${JSON.stringify(path.join(DIST, 'profile', 'usersyms.js'))})
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000 }
;(async () => {
  work(200) // tiers settle
  const c = new Counter('cpu-clock', undefined, { sampleOn: { freq: 999 }, sampleFormat: { userStack: 16384, userRegs: UNWIND_REGS_MASK } })
  const s = c.sampler(9)
  const samples = []
  const take = () => { for (const r of s.drain()) if (r.type === 'sample') samples.push(r) }
  c.enable()
  work(${CPU_MS}, take)
  c.disable()
  take()
  s.close(); c.close()
  const rounds = []
  let frames = 0
  let addrs = []
  for (let r = 0; r < ${ROUNDS}; r++) {
    let t0 = cpu()
    const u = new StackUnwinder(process.pid)
    for (const x of samples) u.unwind(x)
    const cold = cpu() - t0
    t0 = cpu()
    frames = 0
    addrs = []
    for (const x of samples) { const f = u.unwind(x).frames; frames += f.length; for (let i = 0; i < f.length; i++) addrs.push(i ? f[i] - 1n : f[i]) }
    const warm = cpu() - t0
    const unique = [...new Set(addrs)]
    const sym = userSymbolizer({ mmaps: new Map(), uids: () => [process.getuid()], warnings: [], perfMap: () => true })
    t0 = cpu()
    await sym(process.pid, unique)
    rounds.push({ cold, warm, symbolize: cpu() - t0, unique: unique.length })
  }
  console.log(JSON.stringify({ samples: samples.length, frames, rounds }))
})()
`

function node(name, body, wrap = []) {
  const script = path.join(dir, `${name}.js`)
  fs.writeFileSync(script, WORKLOAD + body)
  const argv = [...wrap, process.execPath, '--perf-basic-prof', script]
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: dir, maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}\n${r.stderr}`)
  return r
}

/** CPU time (user + system of it and its children, ns) and wall time of a shell command, from bash's `time`. */
function timed(cmd) {
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3R %3U %3S'; time (${cmd} >/dev/null 2>/dev/null)`], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}\n${r.stderr}`)
  const [wall, u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return { cpu: (u + s) * 1e9, wall: wall * 1e9 }
}

const us = (ns) => `${(ns / 1000).toFixed(1)} µs`

try {
  const r = node('ours', OURS)
  const ours = JSON.parse(r.stdout.trim().split('\n').pop())
  const n = ours.samples
  console.log(`workload: ${CPU_MS} ms of CPU (readSync of /dev/zero through libc + JS compute), cpu-clock at 999 Hz, 16 KiB user stacks; ${ROUNDS} rounds, medians`)
  console.log(`ours: ${n} samples, ${(ours.frames / n).toFixed(1)} frames per sample, ${ours.rounds[0].unique} distinct addresses`)
  console.log(`  unwind, cold (new unwinder: maps + unwind sections read): ${us(median(ours.rounds.map((x) => x.cold)) / n)} per sample`)
  console.log(`  unwind, warm:                                             ${us(median(ours.rounds.map((x) => x.warm)) / n)} per sample`)
  console.log(`  symbolize the unwound addresses (user symbolizer):        ${us(median(ours.rounds.map((x) => x.symbolize)) / n)} per sample`)
  if (!hasPerf) console.log('perf: /usr/bin/perf is not installed (Debian linux-perf): no perf column')
  else {
    const data = path.join(dir, 'perf.data')
    node('perf', `work(200); work(${CPU_MS})`, ['perf', 'record', '-q', '--call-graph', 'dwarf,16384', '-F', '999', '-e', 'cpu-clock', '-o', data, '--'])
    const dump = spawnSync('bash', ['-c', `perf report -D -i ${data} 2>/dev/null | grep -c 'PERF_RECORD_SAMPLE'`], { encoding: 'utf8' })
    const pn = Number(dump.stdout.trim())
    // Without inlined frames, as our symbolizer names them; perf's default (inlined frames through
    // addr2line) is measured once: it spends most of its wall time waiting on addr2line here.
    const reports = Array.from({ length: ROUNDS }, () => timed(`perf report -i ${data} --stdio --no-children --no-inline`))
    const inline = timed(`perf report -i ${data} --stdio --no-children`)
    console.log(`perf record --call-graph dwarf,16384 + perf report --stdio: ${pn} samples (the whole run, warm-up included)`)
    console.log(`  perf report --no-inline (unwind + symbolize, kernel too): ${us(median(reports.map((x) => x.cpu)) / pn)} CPU per sample (${us(median(reports.map((x) => x.wall)) / pn)} wall)`)
    console.log(`  perf report, inlined frames (default; one run):           ${us(inline.cpu / pn)} CPU per sample (${us(inline.wall / pn)} wall)`)
    const oursTotal = (median(ours.rounds.map((x) => x.warm)) + median(ours.rounds.map((x) => x.symbolize))) / n
    console.log(`  CPU per sample, perf report --no-inline / ours (warm unwind + symbolize): ${(median(reports.map((x) => x.cpu)) / pn / oursTotal).toFixed(2)}x`)
  }
} finally {
  // V8's perf maps of the workload processes (/tmp/perf-<pid>.map; each left an isolate-…-<pid>-v8.log here) and our files.
  const pids = fs.readdirSync(dir).map((f) => /^isolate-0x[0-9a-f]+-(\d+)-v8\.log$/.exec(f)?.[1]).filter(Boolean)
  for (const pid of new Set(pids)) fs.rmSync(`/tmp/perf-${pid}.map`, { force: true })
  fs.rmSync(dir, { recursive: true, force: true })
}
