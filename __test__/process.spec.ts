import test from 'ava'
// Serial: the ground-truth windows count the whole process, so no other test may run meanwhile.
import { pbkdf2 } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { Counter, CounterGroup, PerfEventError, ProcessCounter, currentTid, threadIds, threadName } from '../dist/index.js'
import { readdirSync, readlinkSync } from 'node:fs'
import { spinCpu, testUnless } from './helpers.ts'

/** Open perf_event fds of this process. */
function perfFds(): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes('perf_event')) n++
    } catch {}
  }
  return n
}
import { PerfStatAttached, perfTool } from './perftool.ts'

const pbkdf2Jobs = (n: number, iterations: number) =>
  Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => pbkdf2('pw', 'salt', iterations, 64, 'sha512', (e) => (e ? reject(e) : resolve())))))

/** A worker that burns CPU (its own task-clock) and touches fresh pages, then exits. */
function workerJob(cpuMs: number, pages: number): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { readFileSync } = require('node:fs')
    const cpuNs = () => { const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' '); return Number(f[0]) }
    const end = cpuNs() + workerData.cpuMs * 1e6
    let x = 0
    while (cpuNs() < end) for (let i = 0; i < 10000; i++) x++
    const b = Buffer.alloc(workerData.pages * 4096)
    for (let i = 0; i < b.length; i += 4096) b[i] = 1
    parentPort.postMessage(x)`
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { cpuMs, pages } })
    // Resolve once the thread has exited, not at its message: its teardown (and the page faults
    // of it) must fall inside the measured window, not between our window and perf's.
    let result: number
    w.on('message', (m) => (result = m))
    w.on('error', reject)
    w.on('exit', () => resolve(result))
  })
}

test.serial('measure refuses a promise-returning function after disabling; measureAsync counts until it settles', async (t) => {
  using c = new Counter('task-clock')
  const err = t.throws(() => c.measure(async () => 1), { instanceOf: TypeError })
  t.regex(err!.message, /measureAsync/)
  // The counter is disabled again: nothing more is counted.
  const before = c.stat().count
  spinCpu(5)
  t.is(c.stat().count, before)

  const { result, stat } = await c.measureAsync(async () => {
    spinCpu(5)
    await new Promise((r) => setTimeout(r, 1))
    spinCpu(20) // after the first await: the sync form would have missed this
    return 42
  })
  t.is(result, 42)
  t.true(stat.count >= 25_000_000n, `count ${stat.count}`)

  await t.throwsAsync(c.measureAsync(async () => Promise.reject(new Error('boom'))), { message: 'boom' })
  const after = c.stat().count
  spinCpu(5)
  t.is(c.stat().count, after, 'disabled after a rejection')
  await t.throwsAsync(() => c.measureAsync(42 as never), { instanceOf: TypeError, message: /Expected a function for fn/ })

  using g = new CounterGroup('task-clock')
  g.add('page-faults')
  const gs = await g.measureAsync(async () => spinCpu(5))
  t.true(gs.stat.members[0].count >= 5_000_000n)
})

test.serial('currentTid: the main thread is the pid; a worker reports its own thread, countable from the main thread', async (t) => {
  t.is(currentTid(), process.pid)
  const code = `
    const { parentPort } = require('node:worker_threads')
    const { currentTid, Counter } = require(${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)})
    parentPort.postMessage(currentTid())
    parentPort.once('message', (ms) => {
      // The worker's own task-clock, not /proc/thread-self/schedstat: a thread reading its own schedstat
      // sees its run time as of the last tick (up to 4 ms old), so a spin timed by it can end early.
      const clock = new Counter('task-clock', undefined, { enable: true })
      while (clock.stat().count < BigInt(ms * 1e6)) {}
      clock.close()
      parentPort.postMessage('done')
    })`
  const w = new Worker(code, { eval: true })
  const tid = await new Promise<number>((r) => w.once('message', r))
  t.not(tid, process.pid)
  t.true(threadIds(process.pid).includes(tid))
  using c = new Counter('task-clock', { pid: tid })
  c.enable()
  w.postMessage(30)
  await new Promise((r) => w.once('message', r))
  c.disable()
  await w.terminate()
  t.true(c.stat().count >= 30_000_000n, `worker task-clock ${c.stat().count}`)
  t.is(threadName(process.pid, process.pid), 'node')
})

test('thread helpers: bad ids are TypeError/RangeError like threadIds; an unreadable thread-self link is a PerfEventError with a hint', async (t) => {
  t.throws(() => threadName('1' as never, 1), { instanceOf: TypeError, message: 'Expected a process id (a positive integer) for pid but received the string "1"' })
  t.throws(() => threadName(process.pid, 0), { instanceOf: RangeError, message: 'Expected a thread id (a positive integer) for tid but received number 0' })
  t.throws(() => threadName(process.pid, 1.5), { instanceOf: TypeError, message: /for tid/ })
  t.throws(() => threadIds(-1), { instanceOf: RangeError, message: /for pid but received number -1/ })
  t.throws(() => threadIds(null as never), { instanceOf: TypeError, message: /for pid but received null/ })
  t.is(threadName(process.pid, 0x7ffffffe), undefined) // a valid id of no thread
  const { tidOfLink } = await import('../dist/system/threads.js')
  const err = t.throws(() => tidOfLink('/proc/no-such-thread-self'), { instanceOf: PerfEventError })
  t.is(err!.code, 'ENOENT')
  t.is(err!.errno, 2)
  t.is(err!.syscall, 'readlink')
  t.regex(err!.hint ?? '', /Linux 3\.17/)
  const odd = t.throws(() => tidOfLink('/proc/self/exe'), { instanceOf: PerfEventError })
  t.is(odd!.code, 'ERR_PERF')
  t.regex(odd!.hint ?? '', /procfs/)
  t.is(tidOfLink('/proc/thread-self'), process.pid)
})

// Decided when the file loads (perf is installed here when missing, as root).
const perf = perfTool()

testUnless(perf.reason, { serial: true })('ProcessCounter("self"): pool and worker work equals perf stat -p within 1 % and process.cpuUsage() within 2 %', async (t) => {
  const events = ['task-clock', 'page-faults']
  using pc = new ProcessCounter(events)
  // perf below is a child process: a whole-process counter leaves child processes out (Linux 5.13+).
  t.false(pc.inheritsChildren)
  // The addon's runtime threads are left out by default.
  const names = new Map(threadIds(process.pid).map((tid) => [tid, threadName(process.pid, tid)]))
  t.true([...names.values()].includes('tokio-rt-worker'))
  for (const tid of pc.tids) t.not(names.get(tid), 'tokio-rt-worker')

  const ps = new PerfStatAttached(perf.path!, process.pid, events)
  ps.enable()
  const u0 = process.cpuUsage()
  // Pool threads and the worker start during the window (inherited) and the worker exits in it.
  const { stat } = await pc.measureAsync(() => Promise.all([pbkdf2Jobs(4, 150_000), workerJob(150, 2000)]))
  const u = process.cpuUsage(u0)
  ps.disable()
  const truth = await ps.stop()

  const ours = Number(stat.total['task-clock']) / 1e6
  const perfMs = truth.get('task-clock')!
  t.log(`task-clock: ours ${ours.toFixed(2)} ms, perf stat -p ${perfMs} ms, cpuUsage ${(u.user + u.system) / 1000} ms`)
  t.true(ours > 300, `${ours} ms`)
  t.true(Math.abs(ours - perfMs) / perfMs < 0.01, `ours ${ours} vs perf ${perfMs}`)
  const cpuMs = (u.user + u.system) / 1000
  t.true(Math.abs(ours - cpuMs) / cpuMs < 0.02, `ours ${ours} vs cpuUsage ${cpuMs}`)

  const faults = Number(stat.total['page-faults'])
  const perfFaults = truth.get('page-faults')!
  t.log(`page-faults: ours ${faults}, perf stat -p ${perfFaults}`)
  t.true(faults >= 2000, `${faults}`)
  t.true(Math.abs(faults - perfFaults) / perfFaults < 0.01, `ours ${faults} vs perf ${perfFaults}`)

  // Breakdown: the main thread carries the inherited pool/worker counts; the sum is the total.
  t.is(stat.threads.reduce((s, th) => s + th.counts[0], 0n), stat.total['task-clock'])
  const main = stat.threads.find((th) => th.tid === process.pid)!
  t.is(main.name, 'node')
  t.false(main.exited)
  t.is(stat.events[0].runningPercent, 100)
  // Threads started after open (e.g. the libuv pool, if this file had not used it yet) are listed;
  // their counts are in the row of the thread that started them.
  const before = new Set(pc.tids)
  for (const th of stat.laterThreads) t.false(before.has(th.tid))
  t.log(`threads at open: ${pc.tids.length}; started later and alive: ${stat.laterThreads.map((th) => `${th.tid} ${th.name}`).join(', ') || 'none'}`)
  t.false(stat.laterThreads.some((th) => th.name === 'tokio-rt-worker'))
})

test.serial('ProcessCounter of another pid counts its threads, keeps counts of exited threads and closes every fd', async (t) => {
  const fds = perfFds()
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, ['-e', `
    const { Worker } = require('node:worker_threads')
    process.stdin.once('data', () => {
      const w = new Worker("const fs=require('fs'); const ns=()=>Number(fs.readFileSync('/proc/thread-self/schedstat','utf8').split(' ')[0]); const end=ns()+200e6; while (ns()<end) {}", { eval: true })
      w.on('exit', () => process.stdout.write('done\\n'))
    })
    process.stdout.write('ready\\n')
    setTimeout(() => {}, 60000)`], { stdio: ['pipe', 'pipe', 'inherit'] })
  await new Promise((r) => child.stdout.once('data', r))
  const pc = new ProcessCounter('task-clock', child.pid!)
  t.is(pc.pid, child.pid)
  t.true(pc.tids.includes(child.pid!))
  t.is(pc.fdCount, pc.tids.length)
  pc.enable()
  child.stdin.write('go\n')
  await new Promise((r) => child.stdout.once('data', r))
  pc.disable()
  const s = pc.stat()
  t.true(s.total['task-clock'] >= 100_000_000n, `${s.total['task-clock']}`)
  child.kill()
  await new Promise((r) => child.once('exit', r))
  // Every thread exited: the counts stay readable.
  const after = pc.stat()
  t.is(after.total['task-clock'], s.total['task-clock'])
  t.true(after.threads.every((th) => th.exited))
  pc.close()
  t.is(perfFds(), fds)
  t.throws(() => pc.stat(), { instanceOf: PerfEventError, code: 'ERR_CLOSED' })
})

test.serial('ProcessCounter refuses, with the numbers and the fix, when its fds would not fit RLIMIT_NOFILE', (t) => {
  const script = `const p = require(${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)})
    try { new p.ProcessCounter(['task-clock', 'page-faults', 'context-switches', 'cpu-migrations', 'minor-faults']); console.log('opened') }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })) }`
  const r = spawnSync('sh', ['-c', 'ulimit -n 30; exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' })
  const e = JSON.parse(r.stdout)
  t.is(e.code, 'EMFILE')
  t.regex(e.message, /needs \d+ file descriptors \(5 event\(s\) × \d+ threads\) but only \d+ more may be opened/)
  t.regex(e.hint, /ulimit -n/)
})

test.serial('ProcessCounter argument errors', (t) => {
  t.throws(() => new ProcessCounter([]), { instanceOf: RangeError, message: /at least one event/ })
  t.throws(() => new ProcessCounter('task-clock', -1), { instanceOf: TypeError, message: /process id/ })
  t.throws(() => new ProcessCounter('task-clock', 'self', { includeAddonThreads: 1 as never }), { instanceOf: TypeError })
  t.throws(() => new ProcessCounter('task-clok'), { instanceOf: PerfEventError, code: 'ERR_UNKNOWN_EVENT' })
  const fds = perfFds()
  t.throws(() => new ProcessCounter('task-clock', 2 ** 22 + 12345), { instanceOf: PerfEventError, code: 'ESRCH' })
  t.is(perfFds(), fds)
  using all = new ProcessCounter('task-clock', 'self', { includeAddonThreads: true })
  t.true(all.tids.some((tid) => threadName(process.pid, tid) === 'tokio-rt-worker'))
})
