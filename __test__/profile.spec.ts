// Profiles against the real kernel: child `node --perf-basic-prof` scripts with a known shape, their
// profiles read back by independent readers (go tool pprof, pprof-format, perf report).
import test from 'ava'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Profile as PprofProfile } from 'pprof-format'
import { profile, profileCommand, Profiler, PerfEventError } from '../dist/index.js'
import { ensureCommand, freshUser, testUnless, tracefsMounted, userDist, withSystemLock } from './helpers.ts'

const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')
const dir = mkdtempSync(join(tmpdir(), 'pe-profile-'))

/** The script prelude: the package, and a spin that lasts `ms` of this thread's CPU time (not wall time). */
const PRELUDE = `
const pe = require(${JSON.stringify(DIST)})
const fs = require('node:fs')
function cpuNs() { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) }
const out = process.argv[2]
function report(p, extra) {
  const rows = p.top(1000).rows.map((r) => ({ label: r.frame.label, name: r.frame.name, kind: r.frame.kind, tier: r.frame.tier, tiers: r.tiers, file: r.frame.file, line: r.frame.line, self: r.self, total: r.total }))
  fs.writeFileSync(out + '.json', JSON.stringify({ rows, samples: p.sampleCount, total: p.totalWeight, unit: p.unit, event: p.event, lost: p.lost, warnings: p.warnings, threads: p.threads, ...extra }))
}
`

/** Runs a script under `node --perf-basic-prof` (plus `nodeArgs`), optionally under `perf record`; returns its report. */
function runChild(name: string, body: string, nodeArgs: string[] = [], wrap: string[] = []): any {
  const script = join(dir, `${name}.js`)
  writeFileSync(script, PRELUDE + body)
  const out = join(dir, name)
  const argv = [...wrap, process.execPath, '--perf-basic-prof', ...nodeArgs, script, out]
  // cwd: V8 drops isolate-*.log files beside the perf map.
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 90_000, cwd: dir })
  if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}\n${r.stdout}`)
  return { ...JSON.parse(readFileSync(`${out}.json`, 'utf8')), out, stderr: r.stderr }
}

/** 1-based line of `text` in a child script. */
const lineOf = (name: string, text: string) => readFileSync(join(dir, `${name}.js`), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1

const row = (rep: any, name: string) => rep.rows.find((r: any) => r.kind === 'js' && r.name === name)

// hotA does 3x the work of hotB; both call one leaf. No inlining, so each is a frame of its own (perf sees the same).
const SHAPE = `
function leaf(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + (i & 7)); return x }
function hotA() { return leaf(300000) }
function hotB() { return leaf(100000) }
;(async () => {
  for (let i = 0; i < 20; i++) { hotA(); hotB() } // warm up (tiers settle)
  // A fixed period of 250 µs of CPU (4x the samples of 1 kHz, for a tight ratio); the ring holds them all.
  const p = await pe.profile(() => { const end = cpuNs() + 1.5e9; let s = 0; while (cpuNs() < end) { s += hotA(); s += hotB() } return s }, { period: 250000, ringExp: 11 })
  report(p)
  console.log(p.top(8).table)
  await p.write(out + '.pb.gz'); await p.write(out + '.folded'); await p.write(out + '.svg'); await p.write(out + '.cpuprofile'); await p.write(out + '.fx.json')
})()
`

// Decided when the file loads (installed here when missing, as root), so that a test without its
// reader is reported as skipped.
const perfReason = ensureCommand('perf', 'linux-perf')
const goReason = ensureCommand('go', 'golang-go')

let shape: any
test.before(() => {
  const wrap = perfReason ? [] : ['perf', 'record', '-q', '-g', '-c', '250000', '-e', 'cpu-clock', '-o', join(dir, 'shape.perf.data'), '--']
  shape = runChild('shape', SHAPE, ['--no-turbo-inlining'], wrap)
})

test('cpu-clock: hotA : hotB is 3 : 1 (self + children) within 10 %, JS frames named with tier and file:line:column', (t) => {
  const a = row(shape, 'hotA')
  const b = row(shape, 'hotB')
  t.truthy(a, JSON.stringify(shape.rows.slice(0, 10)))
  t.truthy(b)
  const ratio = a.total / b.total
  t.log(`hotA ${a.total} ns, hotB ${b.total} ns: ratio ${ratio.toFixed(3)}; ${shape.samples} samples, lost ${shape.lost.count}`)
  t.true(ratio > 2.7 && ratio < 3.3, `ratio ${ratio}`)
  t.is(shape.unit, 'ns')
  t.is(shape.event, 'cpu-clock')
  t.is(shape.lost.count, 0)
  t.true(shape.samples > 4000, `${shape.samples} samples`)
  t.true(['~', '^', '*', '+', ''].includes(a.tier))
  t.true(a.file.endsWith('shape.js'))
  t.is(a.line, lineOf('shape', 'function hotA'))
  t.regex(a.label, /hotA .*shape\.js:\d+:\d+$/)
  t.deepEqual(shape.warnings, [])
  // Native frames of node/V8 get names too (ELF symbols).
  t.true(shape.rows.some((r: any) => r.kind === 'native' && /^(v8::|node::|Builtins_|uv_)/.test(r.label)))
  t.is(shape.threads.length, 1)
  t.is(shape.threads[0].name, 'node (main)')
})

testUnless(perfReason)('cpu-clock: within 3 percentage points of perf record -g + perf report on the same run', (t) => {
  const text = execFileSync('perf', ['report', '-i', join(dir, 'shape.perf.data'), '--stdio', '--children', '--sort', 'sym', '-g', 'none', '--percent-limit', '0'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const children = (fn: string) => {
    const line = text.split('\n').find((l) => new RegExp(`JS:\\S?${fn} `).test(l))
    if (!line) throw new Error(`${fn} not in perf report:\n${text.slice(0, 3000)}`)
    return Number(/^\s*([\d.]+)%/.exec(line)![1])
  }
  const perfShare = (100 * children('hotA')) / (children('hotA') + children('hotB'))
  const a = row(shape, 'hotA').total
  const b = row(shape, 'hotB').total
  const ours = (100 * a) / (a + b)
  t.log(`hotA share of hotA+hotB: ours ${ours.toFixed(2)} %, perf ${perfShare.toFixed(2)} %`)
  t.true(Math.abs(ours - perfShare) <= 3, `ours ${ours} perf ${perfShare}`)
})

test('pprof export: pprof-format decodes sample types named after the event', (t) => {
  const buf = readFileSync(`${shape.out}.pb.gz`)
  const p = PprofProfile.decode(gunzipSync(buf))
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]
  t.deepEqual(
    p.sampleType.map((st) => [str(st.type), str(st.unit)]),
    [
      ['samples', 'count'],
      ['cpu-clock', 'nanoseconds'],
    ],
  )
  t.is(
    p.sample.reduce((s, x) => s + Number(x.value[0]), 0),
    shape.samples,
  )
  const sum = p.sample.reduce((s, x) => s + Number(x.value[1]), 0)
  t.true(Math.abs(sum - shape.total) <= shape.samples, `${sum} vs ${shape.total}`)
  t.true(p.sample.every((s) => s.label.some((l) => str(l.key) === 'thread' && str(l.str) === 'node (main)')))
})

testUnless(goReason && `go tool pprof: ${goReason}`)('pprof export: go tool pprof -top reads it', (t) => {
  const top = execFileSync('go', ['tool', 'pprof', '-top', '-sample_index=1', `${shape.out}.pb.gz`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  t.log(top.split('\n').slice(0, 12).join('\n'))
  t.regex(top, /Type: cpu-clock/)
  t.regex(top, /hotA \[JS\]/)
  t.regex(top, /hotB \[JS\]/)
})

test('folded, SVG and .cpuprofile exports have their formats\' structure', (t) => {
  const folded = readFileSync(`${shape.out}.folded`, 'utf8').trim().split('\n')
  t.true(folded.every((l) => /^\S.* \d+$/.test(l)))
  t.true(folded.some((l) => /hotA [^;]*_\[j\](;|.* \d+$)/.test(l)))
  const foldedTotal = folded.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
  t.true(Math.abs(foldedTotal - shape.total) <= folded.length)

  const svg = readFileSync(`${shape.out}.svg`, 'utf8')
  t.regex(svg, /^<\?xml/)
  t.regex(svg, /<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.regex(svg, /hotA/)
  t.regex(svg, /<\/svg>\s*$/)
  t.true((svg.match(/<g>/g) ?? []).length > 10)

  const cp = JSON.parse(readFileSync(`${shape.out}.cpuprofile`, 'utf8'))
  t.is(cp.nodes[0].callFrame.functionName, '(root)')
  const ids = new Set(cp.nodes.map((n: any) => n.id))
  t.is(ids.size, cp.nodes.length)
  for (const n of cp.nodes) for (const c of n.children ?? []) t.true(ids.has(c))
  t.is(cp.samples.length, cp.timeDeltas.length)
  // The profile's samples, and (idle) ones where the thread did not run (the timeline DevTools reads).
  const idle = cp.nodes.find((n: any) => n.callFrame.functionName === '(idle)')?.id
  t.is(cp.samples.filter((s: number) => s !== idle).length, shape.samples)
  t.true(cp.samples.every((s: number) => ids.has(s)))
  t.is(
    cp.nodes.reduce((s: number, n: any) => s + n.hitCount, 0),
    cp.samples.length,
  )
  t.true(cp.timeDeltas.every((d: number) => d >= 0))
  t.true(cp.endTime >= cp.startTime)
  const hotA = cp.nodes.find((n: any) => n.callFrame.functionName === 'hotA')
  t.truthy(hotA)
  t.true(hotA.callFrame.url.endsWith('shape.js'))
  t.is(hotA.callFrame.lineNumber, lineOf('shape', 'function hotA') - 1) // 0-based
})

test('Firefox Profiler export: the processed format\'s tables are consistent, threads are threads, JS frames flagged', (t) => {
  const j = JSON.parse(readFileSync(`${shape.out}.fx.json`, 'utf8'))
  t.true(j.meta.preprocessedProfileVersion >= 40, `version ${j.meta.preprocessedProfileVersion}`)
  t.deepEqual(
    j.meta.categories.map((c: any) => c.name),
    ['Other', 'JavaScript', 'V8 builtin', 'Native', 'Kernel', 'Unknown'],
  )
  t.is(j.threads.length, shape.threads.length)
  const th = j.threads[0]
  // The JS thread is its process's main thread, shown under the process's name (`node`, not `node (main)`).
  t.deepEqual([th.name, th.processName, th.isMainThread], ['node', 'node', true])
  t.is(String(th.tid), String(shape.threads[0].tid)) // the format keeps tids as strings
  const { samples, stackTable, frameTable, funcTable, stringArray } = th
  t.is(samples.length, shape.samples)
  t.true(samples.stack.every((s: number | null) => s === null || (s >= 0 && s < stackTable.length)))
  t.true(stackTable.prefix.every((p: number | null, i: number) => p === null || p < i))
  t.true(stackTable.frame.every((f: number) => f >= 0 && f < frameTable.length))
  t.true(frameTable.func.every((f: number) => f >= 0 && f < funcTable.length))
  t.true(funcTable.name.every((n: number) => n >= 0 && n < stringArray.length))
  const hotA = funcTable.name.findIndex((n: number) => /hotA /.test(stringArray[n]))
  t.true(hotA >= 0)
  t.true(funcTable.isJS[hotA])
  t.is(stringArray[funcTable.fileName[hotA]], join(dir, 'shape.js'))
  t.is(funcTable.lineNumber[hotA], lineOf('shape', 'function hotA'))
  // Weight of samples with hotA on the stack, as the Firefox Profiler's call tree counts it.
  let withA = 0
  for (let i = 0; i < samples.length; i++) {
    for (let s = samples.stack[i]; s !== null; s = stackTable.prefix[s]) {
      if (frameTable.func[stackTable.frame[s]] === hotA) {
        withA += samples.weight ? samples.weight[i] : 1
        break
      }
    }
  }
  const ours = row(shape, 'hotA').total / (shape.total / shape.samples)
  t.true(Math.abs(withA - ours) <= shape.samples * 0.02, `${withA} vs ${ours}`)
})

test('page-faults: the function that touches 64 MiB of fresh pages has >= 90 % of the weight', (t) => {
  const rep = runChild(
    'faults',
    `
function touch(bytes) { const b = Buffer.allocUnsafeSlow(bytes); for (let i = 0; i < b.length; i += 4096) b[i] = 1; return b }
;(async () => {
  // Warm up: compiled code stores inline. An interpreted store calls a frameless IC builtin, and frame-pointer
  // call chains (perf's too) lose the direct caller of a frameless leaf.
  for (let i = 0; i < 2000; i++) touch(1 << 16)
  const p = await pe.profile(() => touch(64 << 20), { event: 'page-faults', period: 8 })
  report(p)
})()
`,
  )
  const r = row(rep, 'touch')
  t.truthy(r)
  t.is(rep.unit, 'events')
  const share = r.total / rep.total
  t.log(`touch: ${r.total} of ${rep.total} page faults (${(100 * share).toFixed(1)} %), ${rep.samples} samples, lost ${rep.lost.count}`)
  t.true(share >= 0.9)
  t.true(r.total >= 16384 * 0.9)
})

testUnless(tracefsMounted() ? '' : 'tracefs events are not readable here (not mounted, or root-only; npm test mounts it as root)')('syscalls:sys_enter_write sampled on every event: N writeSync calls give N samples in that JS function', (t) => {
  const rep = runChild(
    'writes',
    `
function writer(fd, n) { for (let i = 0; i < n; i++) fs.writeSync(fd, 'x') }
;(async () => {
  const fd = fs.openSync('/dev/null', 'w')
  const p = await pe.profile(() => writer(fd, 1000), { event: 'syscalls:sys_enter_write' })
  report(p)
})()
`,
    // Without it, the first (interpreted) calls show as V8's interpreter trampoline, not as writer.
    ['--interpreted-frames-native-stack'],
  )
  const r = row(rep, 'writer')
  t.truthy(r, JSON.stringify(rep.rows.slice(0, 5)))
  t.is(r.total, 1000)
  t.is(rep.lost.count, 0)
})

test('lost samples: a one-page ring at a high rate reports the kernel\'s own count (PERF_FORMAT_LOST), never silently', (t) => {
  const rep = runChild(
    'lost',
    `
;(async () => {
  const p = await pe.profile(() => { const end = cpuNs() + 3e8; let x = 0; while (cpuNs() < end) x++; return x }, { freq: 4000, ringExp: 0 })
  report(p)
})()
`,
  )
  t.log(`${rep.samples} samples kept, ${rep.lost.count} lost (${rep.lost.source}), ${rep.lost.records} in LOST records`)
  t.is(rep.lost.source, 'PERF_FORMAT_LOST')
  t.true(rep.lost.count > 0)
  t.true(rep.lost.records <= rep.lost.count)
  t.true(rep.warnings.some((w: string) => /samples lost/.test(w) && /ringExp/.test(w)))
})

test('without --perf-basic-prof: says how to start Node (in the profile and once on stderr), still names native and kernel frames', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(w.message)
  process.on('warning', onWarning)
  function spin() {
    const end = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) + 2e8
    let x = 0
    while (Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) < end) x++
    return x
  }
  const p = await profile(spin)
  const p2 = await profile(spin)
  await new Promise((r) => setImmediate(r))
  process.off('warning', onWarning)
  t.true(p.warnings.some((w) => w.includes('--perf-basic-prof') && w.includes('NODE_OPTIONS')))
  t.true(p2.warnings.some((w) => w.includes('--perf-basic-prof')))
  t.is(warnings.filter((w) => w.includes('--perf-basic-prof')).length <= 1, true)
  const top = p.top(50)
  t.log(top.table.split('\n').slice(0, 8).join('\n'))
  t.true(top.rows.some((r) => r.frame.kind === 'native' && r.frame.module !== undefined))
  t.true(top.rows.some((r) => r.frame.kind === 'kernel' && !r.frame.label.startsWith('[unknown]')))
  t.false(top.rows.some((r) => r.frame.kind === 'js'))
})

test('scope process: pbkdf2 on the libuv pool, a running worker and a worker started later show on their own threads, named', (t) => {
  const rep = runChild(
    'process',
    `
const crypto = require('node:crypto')
const { Worker } = require('node:worker_threads')
const SPIN = "const fs = require('fs'); function cpuNs() { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) }\\n" +
  "function workerSpin() { const end = cpuNs() + 3e8; let x = 0; while (cpuNs() < end) for (let i = 0; i < 1e4; i++) x += Math.sqrt(i); return x }\\n" +
  "const { parentPort } = require('worker_threads'); parentPort.once('message', () => { workerSpin(); parentPort.postMessage('done') })"
;(async () => {
  const running = new Worker(SPIN, { eval: true })
  await new Promise((r) => running.once('online', r))
  const p = await pe.profile(async () => {
    const done = new Promise((r) => running.once('message', r))
    running.postMessage('go')
    const later = new Worker("function lateWork() { let x = 0; for (let i = 0; i < 3e7; i++) x += i % 7; return x } lateWork()", { eval: true })
    await Promise.all([done, new Promise((r) => crypto.pbkdf2('secret', 'salt', 200000, 64, 'sha512', r)), new Promise((r) => later.once('exit', r))])
  }, { scope: 'process' })
  const perThread = p.threads.map((th, i) => ({ ...th, weight: p.top(1, { thread: i }).totalWeight, top: p.top(200, { thread: i }).rows.map((r) => r.frame.label) }))
  report(p, { perThread, scope: p.meta.scope, fds: p.meta.fds })
  await running.terminate()
})()
`,
  )
  const names = rep.perThread.map((x: any) => `${x.name} ${x.tid}: ${x.weight} ns`)
  t.log(`${rep.fds} perf events; threads: ${names.join(', ')}`)
  t.is(rep.scope, 'process')
  const cpus = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim()
  t.true(rep.fds >= 2, `${rep.fds} fds on CPUs ${cpus}`)
  t.is(rep.lost.count, 0)
  const main = rep.perThread.find((x: any) => x.name === 'node (main)')
  t.truthy(main)
  const pool = rep.perThread.find((x: any) => /libuv pool/.test(x.name) && x.top.some((l: string) => /pbkdf2|sha512/i.test(l)))
  t.truthy(pool, 'a libuv pool thread ran pbkdf2')
  t.not(pool.tid, main.tid)
  const spin = rep.perThread.find((x: any) => /Worker/.test(x.name) && x.top.some((l: string) => /workerSpin /.test(l)))
  t.truthy(spin, 'the running worker ran workerSpin on its own thread')
  t.true(spin.weight > 2e8 * 0.8, `${spin.weight} ns`)
  // The worker started after start() is followed (inherited): a Worker thread of its own beside
  // the spinning one. Its JIT frames are named from V8's perf map after it has ended; in about 1 of
  // 7 runs here they stay [unknown] (see README, Profile: limits), so the name is logged, not required.
  const later = rep.perThread.find((x: any) => /Worker/.test(x.name) && x.tid !== spin?.tid && x.weight > 2e7)
  t.truthy(later, `the worker started after start() was followed (inherited); workers: ${JSON.stringify(rep.perThread.filter((x: any) => /Worker/.test(x.name)).map((x: any) => [x.tid, x.weight, x.top.slice(0, 4)]))}`)
  t.log(`later worker ${later?.tid}: ${later?.weight} ns, lateWork ${later?.top.some((l: string) => /lateWork /.test(l)) ? 'named' : 'unnamed ([unknown] JIT frames)'}`)
  t.is(new Set([main.tid, pool.tid, spin.tid, later.tid]).size, 4)
})

test('profileCommand: a child Node program from exec to exit, symbolized after it exited (mmap records + its perf map): hotA : hotB is 3 : 1', async (t) => {
  const script = join(dir, 'command.js')
  writeFileSync(
    script,
    `function leaf(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + (i & 7)); return x }
function hotA() { return leaf(300000) }
function hotB() { return leaf(100000) }
const fs = require('fs'); function cpuNs() { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) }
for (let i = 0; i < 20; i++) { hotA(); hotB() }
const end = cpuNs() + 2e9; let s = 0; while (cpuNs() < end) { s += hotA(); s += hotB() }
process.exitCode = 3
`,
  )
  // The whole program is profiled, first (interpreted) calls included: name those frames too.
  // A fixed period (250 µs of CPU: 4x the samples of 1 kHz, for a tight ratio): frequency mode adapts the period of each per-CPU event on its own,
  // which skews weights when the command moves between CPUs.
  const p = await profileCommand(process.execPath, ['--perf-basic-prof', '--interpreted-frames-native-stack', '--no-turbo-inlining', script], { cwd: dir, period: 250_000 })
  t.is(p.meta.scope, 'command')
  t.is(p.meta.exitCode, 3)
  t.not(p.meta.pid, process.pid)
  t.false(existsSync(`/proc/${p.meta.pid}/maps`), 'the command has exited before symbolization')
  t.deepEqual(p.warnings, [])
  // Every frame (native ones too, and those on every sample): the symbolization is under test here.
  const rows = p.top(500, { by: 'total', attribute: 'frame', common: true }).rows
  const total = (name: string) => rows.find((r) => r.frame.kind === 'js' && r.frame.name === name)?.total ?? 0
  const ratio = total('hotA') / total('hotB')
  t.log(`hotA ${total('hotA')} ns, hotB ${total('hotB')} ns: ratio ${ratio.toFixed(3)}; ${p.sampleCount} samples on ${p.meta.fds} perf events`)
  t.true(ratio > 2.7 && ratio < 3.3, `ratio ${ratio}`)
  // Native frames from the node binary, symbolized at file offsets.
  t.true(rows.some((r) => r.frame.kind === 'native' && r.frame.label.startsWith('node::Start')))
  t.is(p.threads.find((th) => th.tid === p.meta.pid)?.name, 'node (main)')
  await t.throwsAsync(() => profileCommand(join(dir, 'no-such-command')), { instanceOf: PerfEventError, code: 'ENOENT' })
  await t.throwsAsync(() => profileCommand(process.execPath, ['x'], { scope: 'process' } as object), { instanceOf: TypeError, message: /scope/ })
})

// Read under the suite's lock: hints.spec.ts sets other levels for a moment.
const paranoid = withSystemLock(() => Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8')))
const unprivilegedReason =
  process.getuid?.() !== 0 ? 'needs root to run a child as a fresh user' : paranoid < 2 ? `needs perf_event_paranoid >= 2 (it is ${paranoid})` : ''

testUnless(unprivilegedReason)('unprivileged (perf_event_paranoid 2, a fresh user): kernel frames off with the reason; kernel: true is EACCES with a hint', (t) => withSystemLock(() => {
  const user = freshUser('pe-prof')
  t.teardown(() => user.remove())
  const code = `const pe = require(${JSON.stringify(userDist())})
const spin = () => { let x = 0; for (let i = 0; i < 3e7; i++) x += i; return x }
;(async () => {
  const p = await pe.profile(spin)
  let err
  try { await pe.profile(spin, { kernel: true }) } catch (e) { err = { code: e.code, hint: e.hint, name: e.name } }
  console.log(JSON.stringify({ kernel: p.meta.kernel, warnings: p.warnings, kernelFrames: p.frames.filter((f) => f.kind === 'kernel').length, err }))
})()`
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', uid: user.uid, gid: user.gid, cwd: tmpdir() })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.false(out.kernel)
  t.is(out.kernelFrames, 0)
  t.true(out.warnings.some((w: string) => /Kernel frames are off: kernel.perf_event_paranoid is \d/.test(w) && /sysctl kernel.perf_event_paranoid=1/.test(w)))
  t.is(out.err?.name, 'PerfEventError')
  t.is(out.err?.code, 'EACCES')
  t.regex(out.err?.hint ?? '', /paranoid|CAP_PERFMON/)
  // A small memlock limit: the default ring shrinks until the kernel maps it, and the profile says so.
  const small = `const pe = require(${JSON.stringify(userDist())})
pe.profile(() => { let x = 0; for (let i = 0; i < 1e7; i++) x += i; return x }, { freq: 4000 }).then((p) => console.log(JSON.stringify({ warnings: p.warnings, samples: p.sampleCount })))`
  // Another fresh user: the kernel uncharges the first child's rings from its user's locked memory
  // some time after that child exits (seen on Linux 6.18: an immediate second child of the same
  // user could not map even 2^3 pages; 3 s later it could).
  const user2 = freshUser('pe-mlock')
  t.teardown(() => user2.remove())
  const r2 = spawnSync('/bin/sh', ['-c', 'ulimit -l 0 && exec "$0" -e "$1"', process.execPath, small], { encoding: 'utf8', uid: user2.uid, gid: user2.gid, cwd: tmpdir() })
  t.is(r2.status, 0, r2.stderr)
  const out2 = JSON.parse(r2.stdout)
  t.true(out2.warnings.some((w: string) => /The ring was reduced from 2\^\d+ to 2\^\d+ pages by the memlock limit/.test(w)), JSON.stringify(out2.warnings))
  t.true(out2.samples > 0)
}))

test('top(): a JS function\'s tiers are one row, recursion counts once in total, the table has units and %', async (t) => {
  const { ProfileBuilder, Profile } = await import('../dist/profile/model.js')
  const b = new ProfileBuilder()
  const fib1 = b.frame({ label: '~fib /a.js:1:1', name: 'fib', kind: 'js', tier: '~', file: '/a.js', line: 1, column: 1 })
  const fib2 = b.frame({ label: '*fib /a.js:1:1', name: 'fib', kind: 'js', tier: '*', file: '/a.js', line: 1, column: 1 })
  const main = b.frame({ label: 'main', name: 'main', kind: 'native', module: '/bin/x' })
  const th = b.thread(1, 1, () => 'node')
  const sMain = b.stack(-1, main)
  const s1 = b.stack(b.stack(sMain, fib1), fib2) // main > ~fib > *fib (recursion across tiers)
  b.sample(s1, th, 0, 3e6)
  b.sample(sMain, th, 1e6, 1e6)
  const p = new Profile(b, { event: 'cpu-clock', unit: 'ns', freq: 999, kernel: false, scope: 'thread', fds: 1, pid: 1, startTime: 0, endTime: 4 }, { count: 0, source: 'PERF_FORMAT_LOST', records: 0 }, [])
  const top = p.top(5)
  t.is(top.rows.length, 2)
  const fib = top.rows.find((r) => r.frame.name === 'fib')!
  t.is(fib.tiers, '~*')
  t.is(fib.self, 3e6)
  t.is(fib.total, 3e6) // once per sample, not once per frame
  t.is(fib.selfPercent, 75)
  t.is(top.totalWeight, 4e6)
  t.regex(top.table, /^cpu-clock: 2 samples, 4\.0 ms/)
  t.regex(top.table, /3\.0 ms +75\.0% +3\.0 ms +75\.0% +js +~\* +fib \/a\.js:1$/m)
  t.is(p.toFolded(), 'main;~fib /a.js:1:1_[j];*fib /a.js:1:1_[j] 3000000\nmain 1000000\n')
})

test('scope process with pid: another running Node process, every thread, symbolized while it runs: hotA : hotB is 3 : 1', async (t) => {
  const script = join(dir, 'other.js')
  writeFileSync(
    script,
    `function leaf(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + (i & 7)); return x }
function hotA() { return leaf(300000) }
function hotB() { return leaf(100000) }
const fs = require('fs'); function cpuNs() { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) }
for (let i = 0; i < 20; i++) { hotA(); hotB() }
console.log('ready')
process.stdin.once('data', () => {
  const end = cpuNs() + 2e9; let s = 0; while (cpuNs() < end) { s += hotA(); s += hotB() }
  console.log('done')
  process.stdin.once('end', () => process.exit(0))
})
`,
  )
  const child = spawn(process.execPath, ['--perf-basic-prof', '--no-turbo-inlining', script], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  const waitFor = (line: string) =>
    new Promise<void>((resolve) => {
      const check = () => (lines.includes(line) ? resolve() : setTimeout(check, 10))
      check()
    })
  child.stdout.on('data', (d) => lines.push(...String(d).trim().split('\n')))
  await waitFor('ready')
  const p = new Profiler({ scope: 'process', pid: child.pid, period: 250_000 })
  p.start()
  child.stdin.write('go\n')
  await waitFor('done')
  const prof = await p.stop()
  child.stdin.end()
  await new Promise((r) => child.once('exit', r))
  t.is(prof.meta.pid, child.pid)
  t.true(prof.threads.every((th) => th.pid === child.pid))
  t.deepEqual(prof.warnings, [])
  const rows = prof.top(500, { by: 'total' }).rows
  const total = (name: string) => rows.find((r) => r.frame.kind === 'js' && r.frame.name === name)?.total ?? 0
  const ratio = total('hotA') / total('hotB')
  t.log(`hotA ${total('hotA')} ns, hotB ${total('hotB')} ns: ratio ${ratio.toFixed(3)}; ${prof.sampleCount} samples, ${prof.threads.length} threads, ${prof.meta.fds} perf events`)
  t.true(ratio > 2.7 && ratio < 3.3, `ratio ${ratio}`)
  t.throws(() => new Profiler({ pid: child.pid }), { instanceOf: TypeError, message: /scope: 'process'/ })
  t.throws(() => new Profiler({ scope: 'process', pid: 0 }), { instanceOf: RangeError, message: /options\.pid/ })
  const gone = new Profiler({ scope: 'process', pid: child.pid })
  t.throws(() => gone.start(), { instanceOf: PerfEventError, code: 'ESRCH' })
  t.false(gone.running)
})

test('async functions and Profiler start/stop', async (t) => {
  const p = new Profiler({ event: 'task-clock', freq: 500 })
  t.false(p.running)
  p.start()
  t.true(p.running)
  t.throws(() => p.start(), { instanceOf: PerfEventError, code: 'ERR_PROFILER_RUNNING' })
  const end = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) + 1e8
  while (Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) < end) await new Promise((r) => setImmediate(r))
  const prof = await p.stop()
  t.false(p.running)
  t.true(prof.sampleCount > 10)
  t.is(prof.event, 'task-clock')
  t.is(prof.meta.freq, 500)
  await t.throwsAsync(() => p.stop(), { instanceOf: PerfEventError, code: 'ERR_PROFILER_NOT_RUNNING' })
  const a = await profile(async () => {
    await new Promise((r) => setTimeout(r, 5))
    return 1
  })
  t.true(a instanceof Object)
  await t.throwsAsync(() => profile(() => Promise.reject(new Error('boom'))), { message: 'boom' })
})

test('bad options are TypeErrors/RangeErrors naming the option', async (t) => {
  t.throws(() => new Profiler({ freq: 0 }), { instanceOf: RangeError, message: /options\.freq/ })
  t.throws(() => new Profiler({ freq: 10, period: 10 }), { instanceOf: TypeError, message: /options\.freq or options\.period/ })
  t.throws(() => new Profiler({ scope: 'galaxy' as 'thread' }), { instanceOf: TypeError, message: /'thread' or 'process' for options\.scope/ })
  t.throws(() => new Profiler({ kernel: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /options\.kernel/ })
  t.throws(() => new Profiler({ ringExp: 40 }), { instanceOf: RangeError, message: /Expected an integer from 0 to 16 for options\.ringExp \(an exponent: 2\^ringExp pages\) but received number 40/ })
  t.notThrows(() => new Profiler({ ringExp: 16 }))
  t.throws(() => new Profiler({ ringPages: 8 } as object), { instanceOf: TypeError, message: /ringExp.* for options key but received the string "ringPages"/ })
  // A wrong type is a TypeError (a wrong value of the right type a RangeError), and no message calls user code.
  t.throws(() => new Profiler({ freq: 'a' as unknown as number }), { instanceOf: TypeError, message: 'Expected an integer from 1 to 1000000 for options.freq but received the string "a"' })
  t.throws(() => new Profiler({ freq: 1.5 }), { instanceOf: TypeError, message: /options\.freq but received number 1\.5/ })
  t.throws(() => new Profiler({ maxStackFrames: 0 }), { instanceOf: RangeError, message: /options\.maxStackFrames/ })
  t.throws(() => new Profiler({ scope: Object.create(null) }), { instanceOf: TypeError, message: "Expected 'thread' or 'process' for options.scope but received an object" })
  t.throws(() => new Profiler({ kernel: Object.create(null) }), { instanceOf: TypeError, message: 'Expected a boolean for options.kernel but received an object' })
  t.throws(() => new Profiler(null as never), { instanceOf: TypeError, message: 'Expected an options object for options but received null' })
  t.throws(() => new Profiler({ colour: 1 } as object), { instanceOf: TypeError, message: /colour/ })
  t.throws(() => new Profiler({ event: 'no-such-event' }), { instanceOf: PerfEventError, code: 'ERR_UNKNOWN_EVENT' })
  await t.throwsAsync(() => profile(42 as unknown as () => void), { instanceOf: TypeError, message: /Expected a function for fn/ })
  const p = await profile(() => 1)
  await t.throwsAsync(() => p.write(join(dir, 'x.txt')), { instanceOf: RangeError, message: /\.pb\.gz/ })
  t.throws(() => p.top(0), { instanceOf: RangeError, message: 'Expected a positive integer for n but received number 0' })
  t.throws(() => p.top('5' as unknown as number), { instanceOf: TypeError, message: 'Expected a positive integer for n but received the string "5"' })
  t.throws(() => p.top(5, { by: Object.create(null) }), { instanceOf: TypeError, message: "Expected 'self' or 'total' for options.by but received an object" })
  await t.throwsAsync(() => p.write(Object.create(null)), { instanceOf: TypeError, message: 'Expected a file path for path but received an object' })
  await t.throwsAsync(() => profileCommand('true', [1 as unknown as string]), { instanceOf: TypeError, message: 'Expected a string for args[0] but received number 1' })
  await t.throwsAsync(() => profileCommand('true', [], { stdio: Object.create(null) }), { instanceOf: TypeError, message: "Expected 'inherit' or 'ignore' for options.stdio but received an object" })
})

test('a missing symbolizer addon (PERF_EVENT_OPEN_SYMBOLIZE_PATH pointing nowhere) is a PerfEventError whose hint names that variable', (t) => {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(DIST)}).profile(() => 1).catch((e) => { console.log(JSON.stringify({ code: e.code, hint: e.hint })) })`], {
    encoding: 'utf8',
    env: { ...process.env, PERF_EVENT_OPEN_SYMBOLIZE_PATH: join(dir, 'missing.node') },
  })
  const e = JSON.parse(r.stdout)
  t.is(e.code, 'ERR_SYMBOLIZER_MISSING')
  // Only the fix that works in this state: the variable is set, so nothing else is tried (issue 21).
  t.regex(e.hint, /PERF_EVENT_OPEN_SYMBOLIZE_PATH is set \(.*missing\.node\) and nothing else is tried: point it at an existing perf-event-open-symbolize\.linux-\w+-\w+\.node/)
  t.true(existsSync(join(import.meta.dirname, '..', 'symbolize', 'index.js')))
})

// abort(), disposal and options.signal: in a child process of its own, where nothing else opens fds or timers.
const ABORT_SCRIPT = `
const pe = require(${JSON.stringify(DIST)})
const fs = require('node:fs')
const { createHook } = require('node:async_hooks')
const fds = () => fs.readdirSync('/proc/self/fd').length
// Live Timeout resources (the drain timer is unref'd: getActiveResourcesInfo() does not list it).
const timers = new Set()
createHook({ init(id, type) { if (type === 'Timeout') timers.add(id) }, destroy(id) { timers.delete(id) } }).enable()
function spinCpu(ms) { const end = process.cpuUsage().user + ms * 1000; let x = 0; while (process.cpuUsage().user < end) x++; return x }
const turn = () => new Promise((r) => setImmediate(r))
const out = {}
async function run(name, make, end) {
  const before = fds()
  timers.clear()
  const p = make()
  p.start()
  const during = fds()
  const timersDuring = timers.size
  spinCpu(30)
  await end(p)
  await turn(); await turn() // destroy hooks run after the event loop turns
  out[name] = { before, during, after: fds(), timersDuring, timersAfter: timers.size, running: p.running }
  return p
}
;(async () => {
  // The addon's first use opens the fds its runtime keeps for the process's life (epoll, eventfd): not counted.
  new pe.Counter('task-clock').close()
  await run('abort', () => new pe.Profiler({ scope: 'process' }), (p) => p.abort())
  await run('dispose', () => new pe.Profiler(), (p) => p[Symbol.dispose]())
  const ac = new AbortController()
  const p = await run('signal', () => new pe.Profiler({ scope: 'process', signal: ac.signal }), () => ac.abort(new Error('enough')))
  out.signalStop = await p.stop().then(() => 'resolved', (e) => ({ code: e.code, cause: e.cause && e.cause.message }))
  console.log(JSON.stringify(out))
})()
`

test('abort(), dispose and an aborted signal close every fd and the drain timer, and the process exits by itself', (t) => {
  const script = join(dir, 'abort.js')
  writeFileSync(script, ABORT_SCRIPT)
  // The timeout only guards against a hang (a process kept alive): nothing here is timed.
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 })
  t.is(r.status, 0, `${r.signal ?? ''} ${r.stderr}`)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  for (const name of ['abort', 'dispose', 'signal']) {
    const o = out[name]
    t.true(o.during > o.before, `${name}: ${o.during - o.before} perf fds open while it ran`)
    t.is(o.after, o.before, `${name}: every fd closed (${o.before} before, ${o.during} during, ${o.after} after)`)
    t.is(o.timersDuring, 1, `${name}: one drain timer while it ran`)
    t.is(o.timersAfter, 0, `${name}: no timer left`)
    t.false(o.running)
  }
  t.deepEqual(out.signalStop, { code: 'ERR_CLOSED', cause: 'enough' })
  t.log(`fds before/during/after: abort ${out.abort.before}/${out.abort.during}/${out.abort.after}, dispose ${out.dispose.before}/${out.dispose.during}/${out.dispose.after}`)
})

test('after abort(): stop() rejects and start() throws ERR_CLOSED with a hint; a stop() symbolizing when aborted rejects too', async (t) => {
  const p = new Profiler({ event: 'task-clock' })
  p.start()
  p.abort()
  p.abort() // idempotent
  t.false(p.running)
  const e = await t.throwsAsync(() => p.stop(), { instanceOf: PerfEventError, code: 'ERR_CLOSED' })
  t.regex(e!.hint!, /create a new Profiler/)
  t.throws(() => p.start(), { instanceOf: PerfEventError, code: 'ERR_CLOSED' })

  const q = new Profiler({ event: 'task-clock' })
  q.start()
  const pending = q.stop()
  q.abort()
  await t.throwsAsync(pending, { instanceOf: PerfEventError, code: 'ERR_CLOSED' })

  // Disposing of a stopped profiler releases nothing more and does not throw.
  const r = new Profiler({ event: 'task-clock' })
  r.start()
  const prof = await r.stop()
  t.notThrows(() => r[Symbol.dispose]())
  t.is(prof.event, 'task-clock')
})

test('options.signal: an aborted signal refuses start(); profile() rejects ERR_CLOSED with the reason as cause; not a signal is a TypeError', async (t) => {
  t.throws(() => new Profiler({ signal: AbortSignal.abort() }).start(), { instanceOf: PerfEventError, code: 'ERR_CLOSED' })
  const ac = new AbortController()
  const e = await t.throwsAsync(
    () =>
      profile(
        () => {
          ac.abort(new Error('user gave up'))
          return 1
        },
        { signal: ac.signal },
      ),
    { instanceOf: PerfEventError, code: 'ERR_CLOSED' },
  )
  t.is((e!.cause as Error).message, 'user gave up')
  t.throws(() => new Profiler({ signal: {} as AbortSignal }), { instanceOf: TypeError, message: 'Expected an AbortSignal for options.signal but received an object' })
})
