import test from 'ava'
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { join, sep } from 'node:path'
import { Counter, CounterGroup, buildInfo } from '../dist/index.js'
import { openFds } from './helpers.ts'

const gc = (globalThis as { gc?: () => void }).gc

async function collect() {
  for (let i = 0; i < 10; i++) {
    gc!()
    await new Promise((r) => setImmediate(r))
  }
}

// Loading the addon opens a few fds for good (the shared poller of samplers): load it first.
test.before(() => {
  buildInfo()
})

test.serial('close() releases the fd', (t) => {
  const before = openFds()
  const counters = Array.from({ length: 50 }, () => new Counter('task-clock'))
  const group = new CounterGroup('task-clock')
  group.add('cs')
  t.is(openFds(), before + 52)
  for (const c of counters) c.close()
  group.close()
  t.is(openFds(), before)
})

test.serial('using (Symbol.dispose) releases the fd at scope end', (t) => {
  const before = openFds()
  {
    using c = new Counter('task-clock')
    t.is(c.closed, false)
    t.is(openFds(), before + 1)
  }
  t.is(openFds(), before)
})

test.serial('a counter collected without close() releases its fd', async (t) => {
  t.truthy(gc, 'run with --expose-gc')
  const before = openFds()
  ;(() => {
    for (let i = 0; i < 40; i++) new Counter('task-clock').enable()
    const g = new CounterGroup('task-clock')
    g.add('cs')
  })()
  t.is(openFds(), before + 42)
  await collect()
  t.is(openFds(), before)
})

const workerSource = `
const { parentPort } = require('node:worker_threads')
const { Counter } = require(${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)})
const c = new Counter('task-clock')
const { stat } = c.measure(() => { let x = 0; for (let i = 0; i < 5e6; i++) x += i; return x })
const keep = new Counter('page-faults')
keep.enable()
parentPort.postMessage({ count: stat.count, id: c.id() })
c.close()
setInterval(() => {}, 1000) // stay alive until terminated, with 'keep' open
`

test.serial('works in worker_threads; a terminated worker releases its counters', async (t) => {
  const before = openFds()
  const workers = Array.from({ length: 4 }, () => new Worker(workerSource, { eval: true }))
  const results = await Promise.all(workers.map((w) => new Promise<{ count: bigint }>((res, rej) => { w.once('message', res); w.once('error', rej) })))
  for (const r of results) t.true(r.count > 100_000n, `worker count ${r.count}`)
  await Promise.all(workers.map((w) => w.terminate()))
  await collect()
  t.is(openFds(), before)
})

test('two copies of the facade in one thread read their own counters (one native module, two stat buffers)', (t) => {
  const require = createRequire(import.meta.url)
  const dist = join(import.meta.dirname, '..', 'dist')
  const load = () => {
    // A second module registry (a test runner's, a bundler's duplicate) loads the facade again.
    for (const k of Object.keys(require.cache)) if (k.startsWith(dist + sep)) delete require.cache[k]
    return require(join(dist, 'index.js')) as typeof import('../dist/index.js')
  }
  const A = load()
  const B = load()
  t.not(A.Counter, B.Counter)
  using a = new A.Counter('task-clock', undefined, { enable: true })
  using b = new B.Counter('task-clock') // never enabled: always 0
  using g = new B.CounterGroup('task-clock', undefined, { enable: true })
  g.add('page-faults')
  for (let i = 0; i < 3; i++) {
    const sa = a.stat()
    const sb = b.stat()
    const sg = g.stat()
    t.is(sa.id, a.id())
    t.true(sa.count > 0n)
    t.is(sb.id, b.id())
    t.is(sb.count, 0n)
    t.is(sg.members.length, 2)
    t.true(sg.members[0].count > 0n)
  }
})

test('two copies of the facade in one thread: enable/disable/reset act on their own handle only', (t) => {
  const require = createRequire(import.meta.url)
  const dist = join(import.meta.dirname, '..', 'dist')
  const load = () => {
    for (const k of Object.keys(require.cache)) if (k.startsWith(dist + sep)) delete require.cache[k]
    return require(join(dist, 'index.js')) as typeof import('../dist/index.js')
  }
  const A = load()
  const B = load()
  using a = new A.Counter('task-clock')
  using b = new B.Counter('task-clock')
  using g = new A.CounterGroup('task-clock')
  g.add('page-faults')
  using clock = new B.Counter('task-clock', undefined, { enable: true })
  const spin = () => {
    // 200 µs of this thread's CPU time (its own task-clock)
    const start = clock.stat().count
    let x = 0
    while (clock.stat().count - start < 200_000n) x++
    return x
  }
  for (let i = 0; i < 3; i++) {
    // Each switch follows a call of the other copy (whose buffer is registered then).
    a.enable()
    b.reset()
    spin()
    a.disable()
    t.is(b.stat().count, 0n, 'B counter never enabled')
    t.true(a.stat().count > 0n)
    g.enable()
    b.disable()
    spin()
    g.disable()
    t.true(g.stat().members[0].count > 0n)
    b.enable()
    a.reset()
    b.disable()
    t.is(a.stat().count, 0n, 'A counter reset while disabled')
    t.true(b.stat().count > 0n)
    b.reset()
  }
})

test('the stat buffer must be a BigUint64Array over a fixed-length ArrayBuffer', (t) => {
  const script = `
const { binding } = require(${JSON.stringify(join(import.meta.dirname, '..', 'dist', 'loading', 'binding.js'))})
for (const arr of [new BigUint64Array(new ArrayBuffer(64, { maxByteLength: 128 })), new BigUint64Array(new SharedArrayBuffer(64))]) {
  try { binding().setStatBuffer(arr); console.log('accepted') } catch (e) { console.log('error: ' + e.message) }
}
`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  t.is(lines.length, 2)
  for (const l of lines) t.regex(l, /^error: .*Expected a BigUint64Array over a fixed-length ArrayBuffer for the stat buffer$/)
})

test('a stat buffer whose ArrayBuffer was transferred gives an error, not a crash', (t) => {
  const script = `
const { Counter } = require(${JSON.stringify(join(import.meta.dirname, '..', 'dist', 'index.js'))})
const { binding } = require(${JSON.stringify(join(import.meta.dirname, '..', 'dist', 'loading', 'binding.js'))})
const c = new Counter('task-clock', undefined, { enable: true })
const arr = new BigUint64Array(64)
binding().setStatBuffer(arr)
structuredClone(arr.buffer, { transfer: [arr.buffer] })
try { binding().counterStat() /* handle 0 (the slot is 0): the first counter of this process */; console.log('no error') } catch (e) { console.log('error: ' + e.message) }
console.log(String(c.stat().count > 0n))
`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.is(r.signal, null, r.stderr)
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, /^error: .*detached/m)
  t.regex(r.stdout, /^true$/m, 'the facade registers its own buffer again and reads')
})

test('stat() always has id, timeEnabled and timeRunning; turning them off is refused', (t) => {
  using c = new Counter('task-clock', undefined, { statFormat: { lostRecords: false } })
  const s = c.stat()
  t.is(s.id, c.id())
  t.is(typeof s.timeEnabled, 'bigint')
  t.is(typeof s.timeRunning, 'bigint')
  for (const key of ['id', 'timeEnabled', 'timeRunning']) {
    t.throws(() => new Counter('task-clock', undefined, { statFormat: { [key]: false } } as never), {
      instanceOf: TypeError,
      message: new RegExp(`Expected true \\(id, timeEnabled and timeRunning are always read\\) for options.statFormat.${key} but received boolean false`),
    })
  }
})
