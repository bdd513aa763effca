// Off-CPU and wall-clock profiles against the real kernel: child `node --perf-basic-prof` runs of
// __test__/fixtures/offcpu-app.js with waits of known length (Atomics.wait, a FIFO whose writer
// comes later, a CPU shared by two busy threads), checked against the kernel's own sched_switch
// tracepoint as `perf` records it, and as a regular user at perf_event_paranoid 2.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Profile as PprofProfile } from 'pprof-format'
import { OffCpuProfiler, PerfEventError, profileWall } from '../dist/index.js'
import { FIXTURES, freshUser, notRoot, openFds, testUnless, tracefsMounted, userDist, userFixture, withSystemLock } from './helpers.ts'
import { perfTool } from './perftool.ts'
import { threadIntervals } from '../dist/profile/offcpu/intervals.js'

const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')
const APP = join(FIXTURES, 'offcpu-app.js')
const dir = mkdtempSync(join(tmpdir(), 'pe-offcpu-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

const MS = 1e6
const stacksReason = notRoot('stacks at switch-out need root, CAP_PERFMON or perf_event_paranoid <= 1')

interface Report {
  rows: { label: string; name: string; kind: string; self: number; total: number }[]
  meta: Record<string, unknown>
  warnings: string[]
  threads: { tid: number; name: string; offCpuNs: number; runQueueNs: number; blockedNs: number; idleNs: number; onCpuNs?: number; intervals: number }[]
  intervals: { tid: number; start: number; duration: number; state: string }[]
  startNs: string
  endNs: string
  folded: string
  total: number
  tid: number
  text?: string
  leftOut?: { total: number; idleNs: number; meta: Record<string, unknown> }
}

/** Runs a scenario of the fixture (optionally under `wrap`, e.g. perf record) and returns its report. */
let runs = 0
function run(scenario: string, wrap: string[] = [], extra: string[] = []): Report {
  const out = join(dir, `${scenario}-${++runs}.json`)
  const argv = [...wrap, process.execPath, '--perf-basic-prof', '--interpreted-frames-native-stack', APP, DIST, scenario, out, ...extra]
  // cwd: V8 drops isolate-*.log files beside the perf map.
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000, cwd: dir })
  if (r.status !== 0) throw new Error(`${scenario} exited ${r.status}: ${r.stderr}\n${r.stdout}`)
  const rep: Report = JSON.parse(readFileSync(out, 'utf8'))
  // V8 leaves its perf map in /tmp (the child is the profiled process, even under perf).
  rmSync(`/tmp/perf-${String(rep.meta.pid)}.map`, { force: true })
  return rep
}

/** Folded stacks as [frames root first, weight]. */
function folded(rep: Report): [string[], number][] {
  return rep.folded
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const at = l.lastIndexOf(' ')
      return [l.slice(0, at).split(';').map((f) => f.replace(/_\[[kj]\]$/, '')), Number(l.slice(at + 1))]
    })
}

/** Sum of the weight of the stacks that `pick` accepts. */
const weight = (rep: Report, pick: (frames: string[]) => boolean) => folded(rep).reduce((s, [f, w]) => (pick(f) ? s + w : s), 0)
const jsNamed = (name: string) => (f: string[]) => f.some((x) => x.replace(/^[~^*+]/, '').startsWith(`${name} `))
const fmt = (ns: number) => `${(ns / MS).toFixed(1)} ms`

testUnless(stacksReason)('wall: 300 ms in Atomics.wait and 100 ms of CPU split 3:1 (run-queue delay apart), the wait under futex kernel frames', (t) => {
  const rep = run('wall')
  t.is(rep.meta.event, 'wall')
  t.is(rep.meta.unit, 'ns')
  t.is(rep.meta.view, 'stacks')
  // The wait: blocked, under the futex system call (kernel frames say why).
  const futex = weight(rep, (f) => f.includes('futex_wait') && f.at(-1) === '[blocked]')
  // The spin: its time on CPU (cpu-clock samples); time it spent preempted is run-queue delay, apart.
  const spin = weight(rep, (f) => jsNamed('spinCpu')(f) && !['[run queue]', '[blocked]', '[idle]'].includes(f.at(-1)!))
  const spinQueued = weight(rep, (f) => jsNamed('spinCpu')(f) && f.at(-1) === '[run queue]')
  const main = rep.threads.find((th) => th.tid === rep.tid)!
  t.log(`futex wait ${fmt(futex)}, spinCpu on CPU ${fmt(spin)} (+ ${fmt(spinQueued)} in the run queue): ratio ${(futex / spin).toFixed(3)}; main thread ${JSON.stringify(main)}`)
  t.true(futex > 300 * MS && futex < 330 * MS, fmt(futex))
  t.true(futex / spin > 2.7 && futex / spin < 3.3, `ratio ${futex / spin}`)
  // Wall = on CPU + off CPU for the thread, within the profiled window.
  const window = Number(BigInt(rep.endNs) - BigInt(rep.startNs))
  const wall = main.offCpuNs + main.onCpuNs!
  t.log(`window ${fmt(window)}, on + off CPU ${fmt(wall)}`)
  t.true(Math.abs(wall - window) < 0.1 * window)
})

testUnless(stacksReason)('wall: the Atomics.wait time is under the waiting JS function (waitOnAtomics)', (t) => {
  const rep = run('wall')
  const named = weight(rep, (f) => jsNamed('waitOnAtomics')(f) && f.at(-1) === '[blocked]')
  t.true(named > 270 * MS, fmt(named))
})

testUnless(stacksReason)('off-cpu: readFileSync of a FIFO waits in fifo_open (a FIFO blocks in open()), blocked, >= 90 % of the call', (t) => {
  const rep = run('fifo', [], [join(dir, 'fifo')])
  t.is(rep.text, 'written\n')
  t.is(rep.meta.event, 'off-cpu')
  const main = rep.threads.find((th) => th.tid === rep.tid)!
  const inOpen = weight(rep, (f) => f.includes('fifo_open') && f.at(-1) === '[blocked]')
  // What frame-pointer chains give above the kernel today: libc's open wrapper.
  const libcOpen = weight(rep, (f) => f.some((x) => /open64/.test(x)) && f.includes('fifo_open'))
  t.log(`off CPU ${fmt(main.offCpuNs)} (blocked ${fmt(main.blockedNs)}, run queue ${fmt(main.runQueueNs)}); in fifo_open ${fmt(inOpen)}, under libc's open ${fmt(libcOpen)}`)
  t.true(inOpen > 100 * MS, fmt(inOpen))
  t.true(inOpen >= 0.9 * main.offCpuNs)
  t.is(libcOpen, inOpen)
})

testUnless(stacksReason)('off-cpu: >= 90 % of the FIFO read under the calling JS function (readTheFifo)', (t) => {
  const rep = run('fifo', [], [join(dir, 'fifo2')])
  const main = rep.threads.find((th) => th.tid === rep.tid)!
  t.true(weight(rep, jsNamed('readTheFifo')) >= 0.9 * main.offCpuNs)
})

testUnless(stacksReason)("the event loop's idle wait (epoll under uv_run) is [idle], and idle: false leaves it out", (t) => {
  const rep = run('idle')
  const main = rep.threads.find((th) => th.tid === rep.meta.pid)!
  const idle = weight(rep, (f) => f.at(-1) === '[idle]' && f.includes('do_epoll_wait'))
  t.log(`idle ${fmt(main.idleNs)} (under do_epoll_wait ${fmt(idle)}), blocked ${fmt(main.blockedNs)}; left out: ${JSON.stringify(rep.leftOut)}`)
  t.true(main.idleNs > 180 * MS, fmt(main.idleNs))
  t.is(idle, main.idleNs)
  t.true(main.blockedNs < 0.1 * main.idleNs)
  t.is(rep.leftOut!.meta.idle, 'left out')
  t.true(rep.leftOut!.idleNs > 180 * MS)
  t.true(rep.leftOut!.total < 0.1 * rep.leftOut!.idleNs, `left-out profile weighs ${rep.leftOut!.total}`)
})

const tasksetReason = spawnSync('taskset', ['-c', '0', 'true']).status === 0 ? '' : 'taskset (util-linux) cannot pin to CPU 0 here'
testUnless(stacksReason || tasksetReason)('two busy threads pinned to one CPU: run-queue delay, not blocked time, on both (scope process)', (t) => {
  const rep = run('pinned', ['taskset', '-c', '0'])
  const main = rep.threads.find((th) => th.tid === rep.tid)!
  const worker = rep.threads.find((th) => th.name.includes('(Worker)'))
  t.log(JSON.stringify({ main, worker }))
  t.is(rep.meta.scope, 'process')
  // 200 ms of CPU on a CPU shared with a busy worker: about as long again waiting for it.
  t.true(main.runQueueNs > 100 * MS, fmt(main.runQueueNs))
  t.true(main.blockedNs < 0.1 * main.runQueueNs, fmt(main.blockedNs))
  t.truthy(worker)
  t.true(worker!.runQueueNs > 100 * MS, fmt(worker!.runQueueNs))
  // Preempted in the middle of the JS spin: the run-queue delay is under it.
  const queuedInSpin = weight(rep, (f) => jsNamed('spinCpu')(f) && f.at(-1) === '[run queue]')
  t.true(queuedInSpin > 0.5 * main.runQueueNs, `${fmt(queuedInSpin)} of ${fmt(main.runQueueNs)}`)
})

const perf = perfTool()
const perfReason = stacksReason || perf.reason || (tracefsMounted() ? '' : 'tracefs is not mounted (sched:sched_switch needs it)')
testUnless(perfReason)("off-CPU time per thread matches perf's sched:sched_switch on the same run within 5 %", (t) => {
  const data = join(dir, 'sched.data')
  const rep = run('wall', [perf.path!, 'record', '-q', '-k', 'mono', '-e', 'sched:sched_switch', '-a', '-o', data, '--'])
  const script = spawnSync(perf.path!, ['script', '-i', data, '--ns', '-F', 'time,trace'], { encoding: 'utf8', maxBuffer: 1 << 28 })
  t.is(script.status, 0, script.stderr)
  const start = BigInt(rep.startNs)
  const end = BigInt(rep.endNs)
  // prev_pid switched out at that time (prev_state R: preempted), next_pid switched in.
  let out: bigint | undefined
  let off = 0n
  let queued = 0n
  let queuedOut = false
  for (const line of script.stdout.split('\n')) {
    const m = /^\s*(\d+)\.(\d{9}):\s+prev_comm=.* prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=.* next_pid=(\d+) /.exec(line)
    if (!m) continue
    const time = BigInt(m[1]) * 1_000_000_000n + BigInt(m[2])
    if (Number(m[3]) === rep.tid && Number(m[5]) !== rep.tid) {
      out = time
      queuedOut = m[4].startsWith('R')
    } else if (Number(m[5]) === rep.tid && out !== undefined) {
      const a = out < start ? start : out
      const b = time > end ? end : time
      if (b > a) {
        off += b - a
        if (queuedOut) queued += b - a
      }
      out = undefined
    }
  }
  const ours = rep.threads.find((th) => th.tid === rep.tid)!
  t.log(`main thread off CPU: ours ${fmt(ours.offCpuNs)} (run queue ${fmt(ours.runQueueNs)}), perf sched_switch ${fmt(Number(off))} (run queue ${fmt(Number(queued))})`)
  t.true(off > 300_000_000n)
  t.true(Math.abs(ours.offCpuNs - Number(off)) <= 0.05 * Number(off))
  t.true(Math.abs(ours.runQueueNs - Number(queued)) <= 0.05 * Number(off))
})

const paranoidReason = notRoot('needs root to run a child as a fresh user and to set perf_event_paranoid')
testUnless(paranoidReason, { serial: true })('a regular user at perf_event_paranoid 2: the reduced view, exact intervals without stacks, labelled', (t) =>
  withSystemLock(() => {
    const path = '/proc/sys/kernel/perf_event_paranoid'
    const before = readFileSync(path, 'utf8').trim()
    if (Number(before) !== 2) writeFileSync(path, '2')
    const user = freshUser('pe-offcpu')
    const outDir = mkdtempSync(join(tmpdir(), 'pe-offcpu-user-'))
    chmodSync(outDir, 0o777)
    try {
      const out = join(outDir, 'reduced.json')
      const r = spawnSync(process.execPath, [userFixture('offcpu-app.js'), userDist(), 'reduced', out], { encoding: 'utf8', uid: user.uid, gid: user.gid, cwd: outDir, timeout: 120_000 })
      t.is(r.status, 0, r.stderr)
      const rep: Report = JSON.parse(readFileSync(out, 'utf8'))
      const main = rep.threads.find((th) => th.tid === rep.tid)!
      t.log(JSON.stringify({ meta: rep.meta, main, warnings: rep.warnings }))
      t.is(rep.meta.view, 'reduced')
      t.is(rep.meta.event, 'wall')
      t.false(rep.meta.kernel)
      t.true(rep.warnings.some((w) => w.startsWith('Reduced view:') && /perf_event_paranoid is 2/.test(w)))
      // Exact: the 300 ms Atomics.wait is one blocked interval of 300 ms and a little more.
      const waits = rep.intervals.filter((iv) => iv.tid === rep.tid && iv.state === 'blocked' && iv.duration > 250 * MS)
      t.is(waits.length, 1, JSON.stringify(rep.intervals.slice(0, 10)))
      t.true(waits[0].duration >= 300 * MS && waits[0].duration < 330 * MS, fmt(waits[0].duration))
      // No stack below the state of an off-CPU interval.
      for (const [frames] of folded(rep)) if (['[blocked]', '[run queue]'].includes(frames.at(-1)!)) t.deepEqual(frames.length, 1, frames.join(';'))
    } finally {
      user.remove()
      rmSync(outDir, { recursive: true, force: true })
      if (Number(before) !== 2) writeFileSync(path, before)
    }
  }),
)

test('options are checked: TypeError/RangeError naming the field; stop() before start() is ERR_PROFILER_NOT_RUNNING', async (t) => {
  t.throws(() => new OffCpuProfiler({ mode: 'cpu' as never }), { instanceOf: TypeError, message: /options\.mode/ })
  t.throws(() => new OffCpuProfiler({ scope: 'process', tid: 1 }), { instanceOf: TypeError, message: /options\.tid/ })
  t.throws(() => new OffCpuProfiler({ userStack: 12 }), { instanceOf: RangeError, message: /options\.userStack/ })
  t.throws(() => new OffCpuProfiler({ freq: 0 }), { instanceOf: RangeError, message: /options\.freq/ })
  t.throws(() => new OffCpuProfiler({ idle: 'no' as never }), { instanceOf: TypeError, message: /options\.idle/ })
  t.throws(() => new OffCpuProfiler({ bogus: 1 } as never), { instanceOf: TypeError, message: /bogus/ })
  await t.throwsAsync(() => profileWall('x' as never), { instanceOf: TypeError })
  const err = await t.throwsAsync(() => new OffCpuProfiler().stop())
  t.true(err instanceof PerfEventError)
  t.is((err as PerfEventError).code, 'ERR_PROFILER_NOT_RUNNING')
})

test('an off-CPU profile exports as every CPU profile does: pprof sample type off-cpu/nanoseconds, folded, SVG, .cpuprofile, Firefox; no fd left open', async (t) => {
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  // The first profile of a process loads the symbolizer, whose thread keeps its own epoll and eventfd: count from the second.
  await profileWall(() => Atomics.wait(sleeper, 0, 0, 1), { mode: 'off-cpu' })
  const fds = openFds()
  const p = await profileWall(() => Atomics.wait(sleeper, 0, 0, 50), { mode: 'off-cpu' })
  t.is(openFds(), fds)
  t.is(p.meta.event, 'off-cpu')
  const me = p.offCpu.threads.find((th) => th.offCpuNs > 0)
  t.truthy(me)
  t.true(me!.offCpuNs >= 50 * MS, String(me!.offCpuNs))
  const pprof = PprofProfile.decode(gunzipSync(p.toPprof()))
  const str = (i: number | bigint) => pprof.stringTable.strings[Number(i)]
  t.deepEqual(
    pprof.sampleType.map((s) => `${str(s.type)}/${str(s.unit)}`),
    ['samples/count', 'off-cpu/nanoseconds'],
  )
  t.true(p.toFolded().includes(process.getuid?.() === 0 ? '[blocked]' : '['))
  t.regex(await p.toSvg(), /<svg/)
  t.true(p.toCpuProfile().nodes.length > 0)
  const fx = JSON.parse(await p.toFirefox())
  t.true(fx.threads.length > 0)
  // The waiting states are categories of their own in the Firefox Profiler (its activity graph colours them).
  if (process.getuid?.() === 0) t.true(fx.meta.categories.some((c: { name: string }) => c.name === 'Blocked'), JSON.stringify(fx.meta.categories.map((c: { name: string }) => c.name)))
})

test('intervals: out/in pairs in any ring order; a lost switch-in drops its interval; cut at the window edges', (t) => {
  const stack = { user: [1n], kernel: [2n] }
  const r = threadIntervals(
    7,
    [
      { kind: 'in', time: 150n }, // off CPU since before the start (100)
      { kind: 'out', time: 300n, preempt: true },
      { kind: 'stack', time: 200n, stack },
      { kind: 'out', time: 200n, preempt: false }, // the stack taken at this switch-out, just before it
      { kind: 'in', time: 250n },
      { kind: 'in', time: 320n },
      { kind: 'out', time: 400n, preempt: false }, // its switch-in lost
      { kind: 'out', time: 500n, preempt: false }, // still off CPU at the end (600)
    ],
    100n,
    600n,
  )
  t.deepEqual(
    r.intervals.map((iv) => [iv.start, iv.end, iv.preempt, iv.stack === stack, iv.cut]),
    [
      [100n, 150n, false, false, 'start'],
      [200n, 250n, false, true, undefined],
      [300n, 320n, true, false, undefined],
      [500n, 600n, false, false, 'end'],
    ],
  )
  t.is(r.unmatched, 1)
})
