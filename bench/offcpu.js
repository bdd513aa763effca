// Off-CPU profiling overhead (measured, never asserted): a Node program whose two threads ping-pong
// through Atomics.wait/notify (each handoff after a fixed slice of CPU work, about 10 000 context
// switches a second), run plain, under `perf-event-open record --off-cpu`, and under
// `perf record -e sched:sched_switch -g` (/usr/bin/perf). Two figures, medians of interleaved rounds:
//   - the program's own process CPU over the ping-pong (/proc/self/task/*/schedstat): what each
//     recorder adds to the profiled threads (the kernel writing records at every switch);
//   - all CPU of the run (the recorder, the program, startup and, for ours, symbolizing and writing
//     the profile; for perf, writing perf.data), from the shell's `times`.
//   node bench/offcpu.js        BENCH_ROUNDS=5  BENCH_HANDOFFS=20000  (as root: perf needs tracepoints)
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'index.js')
const PERF = '/usr/bin/perf'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const HANDOFFS = Number(process.env.BENCH_HANDOFFS ?? 20000)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// The program: main and a worker hand a token back and forth HANDOFFS times; each side does a fixed
// amount of arithmetic before it passes the token on, then parks in Atomics.wait.
const APP = `
const fs = require('node:fs')
const { Worker, isMainThread, workerData } = require('node:worker_threads')
function processCpuNs() {
  let t = 0
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try { t += Number(fs.readFileSync('/proc/self/task/' + tid + '/schedstat', 'utf8').split(' ')[0]) } catch {}
  }
  return t
}
function work() { let x = 0; for (let i = 0; i < 25000; i++) x += Math.sqrt(i); return x }
function pingPong(flag, me, other, n) {
  for (let i = 0; i < n; i++) {
    while (Atomics.load(flag, 0) !== me) Atomics.wait(flag, 0, other)
    work()
    Atomics.store(flag, 0, other)
    Atomics.notify(flag, 0)
  }
}
if (isMainThread) {
  const flag = new Int32Array(new SharedArrayBuffer(4))
  const n = Number(process.argv[2])
  const w = new Worker(__filename, { eval: false, workerData: { flag, n }, argv: [String(n)] })
  w.once('online', () => {
    const cpu0 = processCpuNs()
    const t0 = process.hrtime.bigint()
    Atomics.store(flag, 0, 1); Atomics.notify(flag, 0)
    pingPong(flag, 0, 1, n)
    const wall = Number(process.hrtime.bigint() - t0)
    w.once('exit', () => process.stdout.write(JSON.stringify({ pid: process.pid, cpuNs: processCpuNs() - cpu0, wallNs: wall }) + '\\n'))
  })
} else pingPong(workerData.flag, 1, 0, workerData.n)
`

function main() {
  if (process.getuid?.() !== 0) console.error('note: not root: perf needs tracepoints (sched:sched_switch), and stacks at switch-out need paranoid <= 1')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-offcpu-'))
  try {
    const app = path.join(dir, 'pingpong.js')
    fs.writeFileSync(app, APP)
    const node = [process.execPath, '--perf-basic-prof', '--interpreted-frames-native-stack', app, String(HANDOFFS)]
    const q = (a) => a.map((x) => `'${x}'`).join(' ')
    const modes = {
      plain: q(node),
      'perf-event-open record --off-cpu': `${q([process.execPath, CLI, 'record', '--off-cpu', '-o', path.join(dir, 'ours.pb.gz'), '--'])} ${q(node)} 2>/dev/null`,
      'perf record -e sched:sched_switch -g': `${q([PERF, 'record', '-q', '-e', 'sched:sched_switch', '-g', '-o', path.join(dir, 'perf.data'), '--'])} ${q(node)} 2>/dev/null`,
    }
    const res = Object.fromEntries(Object.keys(modes).map((m) => [m, { app: [], all: [], rate: [] }]))
    for (let r = 0; r < ROUNDS; r++)
      for (const [m, cmd] of Object.entries(modes)) {
        // bash's `times`: second line = CPU of its children (user, sys).
        const out = spawnSync('bash', ['-c', `${cmd}; times`], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 26 })
        const lines = out.stdout.trim().split('\n')
        const rep = JSON.parse(lines.find((l) => l.startsWith('{')) ?? 'null')
        const kids = lines.at(-1).match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/)
        if (!rep || !kids) throw new Error(`${m}: ${out.stderr}${out.stdout}`)
        // The program runs with --perf-basic-prof: its map file goes (ours removes it itself).
        fs.rmSync(`/tmp/perf-${rep.pid}.map`, { force: true })
        res[m].app.push(rep.cpuNs / 1e6)
        res[m].all.push((Number(kids[1]) * 60 + Number(kids[2]) + Number(kids[3]) * 60 + Number(kids[4])) * 1e3)
        res[m].rate.push((2 * HANDOFFS) / (rep.wallNs / 1e9))
        fs.rmSync(path.join(dir, 'perf.data'), { force: true })
        fs.rmSync(path.join(dir, 'ours.pb.gz'), { force: true })
      }
    const base = res.plain
    console.log(`${HANDOFFS} handoffs (${2 * HANDOFFS} context switches), ${ROUNDS} rounds, medians; plain run: ${Math.round(median(base.rate))} switches/s`)
    console.log(['mode'.padEnd(40), 'program CPU', '  + vs plain', '  all CPU of the run', '  switches/s'].join(''))
    for (const [m, v] of Object.entries(res)) {
      const appMs = median(v.app)
      const extra = m === 'plain' ? '' : `+${(((appMs - median(base.app)) / median(base.app)) * 100).toFixed(1)} %`
      console.log([m.padEnd(40), `${appMs.toFixed(1)} ms`.padStart(11), extra.padStart(12), `${median(v.all).toFixed(0)} ms`.padStart(20), `${Math.round(median(v.rate))}`.padStart(12)].join(''))
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
main()
