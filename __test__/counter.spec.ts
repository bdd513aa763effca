import test from 'ava'
import { writeSync, openSync, closeSync } from 'node:fs'
import { Counter, PerfEventError, addressOf } from '../dist/index.js'
import { buildProbed, spin, startProbed, touchFreshPages, tracefsMounted } from './helpers.ts'

test('task-clock counts the JS thread CPU time (ns) and reads id and times by default', (t) => {
  using c = new Counter('task-clock')
  const cpu0 = process.cpuUsage()
  const wall0 = process.hrtime.bigint()
  const { stat } = c.measure(() => spin(30))
  const wall = process.hrtime.bigint() - wall0
  const cpu = process.cpuUsage(cpu0)
  const processNs = BigInt(cpu.user + cpu.system) * 1000n
  // The thread ran for part of the wall time (other tests share 2 cores) and never more;
  // its CPU time is part of the process's CPU time (10 ms tick granularity of cpuUsage).
  t.true(stat.count >= 1_000_000n, `count ${stat.count}`)
  t.true(stat.count <= wall, `count ${stat.count} > wall ${wall}`)
  t.true(stat.count <= processNs + 10_000_000n, `count ${stat.count} > process cpu ${processNs}`)
  t.is(stat.timeEnabled, stat.timeRunning)
  t.is(stat.id, c.id())
  t.is(stat.scaled, stat.count)
  t.false(stat.multiplexed)
  t.false(stat.neverRan)
})

test('cpu-clock advances with busy JS', (t) => {
  using c = new Counter('cpu-clock')
  t.true(c.measure(() => spin(20)).stat.count >= 1_000_000n)
})

test('page-faults: touching N fresh pages faults at least N times', (t) => {
  for (const name of ['page-faults', 'faults', 'minor-faults']) {
    using c = new Counter(name)
    const { result: pages, stat } = c.measure(touchFreshPages)
    t.true(stat.count >= BigInt(pages), `${name}: ${stat.count} < ${pages}`)
    t.true(stat.count < BigInt(pages) + 500n, `${name}: ${stat.count}`)
  }
})

test('context-switches: blocking the thread switches at least once per wait', (t) => {
  using c = new Counter('cs')
  const shared = new Int32Array(new SharedArrayBuffer(4))
  const { stat } = c.measure(() => {
    for (let i = 0; i < 5; i++) Atomics.wait(shared, 0, 0, 5)
  })
  t.true(stat.count >= 5n, `cs ${stat.count}`)
})

test('every software event opens and reads', (t) => {
  const names = ['cpu-clock', 'task-clock', 'page-faults', 'minor-faults', 'major-faults', 'alignment-faults', 'emulation-faults',
    'context-switches', 'cpu-migrations', 'migrations', 'cgroup-switches', 'dummy', 'bpf-output']
  for (const name of names) {
    using c = new Counter(name)
    const { stat } = c.measure(() => spin(1))
    t.is(typeof stat.count, 'bigint', name)
  }
  using dummy = new Counter({ type: 'software', name: 'dummy' })
  t.is(dummy.measure(() => spin(2)).stat.count, 0n)
  using major = new Counter('major-faults')
  t.is(major.measure(() => spin(1)).stat.count, 0n)
})

test('enable/disable/reset: nothing counted while disabled; reset zeroes', (t) => {
  using c = new Counter('task-clock')
  spin(5)
  t.is(c.stat().count, 0n)
  t.true(c.stat().neverRan)
  c.enable()
  spin(5)
  c.disable()
  const a = c.stat().count
  spin(5)
  t.is(c.stat().count, a)
  c.reset()
  t.is(c.stat().count, 0n)
})

test('Counter.enableAll/disableAll toggle every counter of this thread', (t) => {
  using a = new Counter('task-clock')
  using b = new Counter('cpu-clock')
  Counter.enableAll()
  spin(5)
  Counter.disableAll()
  const va = a.stat().count
  const vb = b.stat().count
  t.true(va > 100_000n && vb > 100_000n, `${va} ${vb}`)
  spin(5)
  t.is(a.stat().count, va)
})

test('options.enable starts counting at open', (t) => {
  using c = new Counter('task-clock', undefined, { enable: true })
  spin(3)
  t.true(c.stat().count > 0n)
})

test('tracepoint syscalls:sys_enter_write counts exactly the writes made', (t) => {
  if (!tracefsMounted()) return t.fail('tracefs is not mounted; .ci/run mounts it')
  const n = 200
  using c = new Counter('syscalls:sys_enter_write', { pid: 0, cpu: 'all' }, {})
  const { stat } = c.measure(() => {
    for (let i = 0; i < n; i++) writeSync(2, '')
  })
  t.true(stat.count >= BigInt(n), `count ${stat.count}`)
  t.true(stat.count <= BigInt(n) + 5n, `count ${stat.count}`)
})

test('ftrace filter keeps only matching tracepoint hits', (t) => {
  const fd = openSync('/dev/null', 'w')
  try {
    using c = new Counter('syscalls:sys_enter_write')
    c.setFilter(`fd == ${fd}`)
    const { stat } = c.measure(() => {
      for (let i = 0; i < 30; i++) writeSync(fd, 'x')
      for (let i = 0; i < 30; i++) writeSync(2, '')
    })
    t.is(stat.count, 30n)
  } finally {
    closeSync(fd)
  }
})

test('queryBpf on a tracepoint without programs; attachBpf of a non-BPF fd is refused by the kernel', (t) => {
  using c = new Counter('syscalls:sys_enter_write')
  t.deepEqual(c.queryBpf(), { ids: [], more: 0 })
  const fd = openSync('/dev/null', 'r')
  try {
    const err = t.throws(() => c.attachBpf(fd), { instanceOf: PerfEventError })
    t.is(err!.syscall, 'ioctl')
    t.true(['EINVAL', 'EBADF', 'EPERM'].includes(err!.code), err!.code)
  } finally {
    closeSync(fd)
  }
  // Out-of-range integers are RangeErrors; only a non-integer is a TypeError.
  t.throws(() => c.attachBpf(-1), { instanceOf: RangeError, message: 'Expected a file descriptor (non-negative integer) for fd but received number -1' })
  t.throws(() => c.attachBpf(1.5), { instanceOf: TypeError, message: /for fd but received number 1\.5/ })
  t.throws(() => c.attachBpf('3' as never), { instanceOf: TypeError, message: /for fd but received the string "3"/ })
  t.throws(() => c.queryBpf(1e6), { instanceOf: RangeError, message: 'Expected an integer from 0 to 65535 for max but received number 1000000' })
  t.throws(() => c.queryBpf(-1), { instanceOf: RangeError })
  t.throws(() => c.queryBpf(NaN), { instanceOf: TypeError })
})

test('write watchpoint on a Buffer counts each JS write', (t) => {
  const buf = Buffer.alloc(64)
  const addr = addressOf(buf)
  using c = new Counter({ type: 'breakpoint', access: 'w', addr, len: 8 })
  const { stat } = c.measure(() => {
    for (let i = 0; i < 100; i++) buf[0] = i
    for (let i = 0; i < 50; i++) buf[32] = i // outside the watched 8 bytes
  })
  t.is(stat.count, 100n)
})

test('mem:ADDR/LEN:rw string watches reads and writes', (t) => {
  const buf = new Float64Array(8)
  using c = new Counter(`mem:0x${addressOf(buf).toString(16)}/8:rw`)
  let sum = 0
  const { stat } = c.measure(() => {
    for (let i = 0; i < 40; i++) buf[0] = i
    for (let i = 0; i < 40; i++) sum += buf[0]
  })
  t.true(sum > 0)
  t.is(stat.count, 80n)
})

test('switchTo moves a watchpoint to another address (modify attributes)', (t) => {
  const a = Buffer.alloc(16)
  const b = Buffer.alloc(16)
  using c = new Counter({ type: 'breakpoint', access: 'w', addr: addressOf(a), len: 4 })
  c.switchTo({ type: 'breakpoint', access: 'w', addr: addressOf(b), len: 4 })
  const { stat } = c.measure(() => {
    for (let i = 0; i < 10; i++) a[0] = i
    for (let i = 0; i < 25; i++) b[0] = i
  })
  t.is(stat.count, 25n)
})

const probed = buildProbed()

test('uprobe and uretprobe on a function of a binary the test builds count each call', async (t) => {
  for (const ret of [false, true]) {
    const child = startProbed(probed.path, 123)
    using c = new Counter({ type: 'uprobe', path: probed.path, offset: probed.offset, ret }, { pid: child.pid }, { enable: true })
    child.go()
    t.is(await child.done, '123')
    t.is(c.stat().count, 123n, ret ? 'uretprobe' : 'uprobe')
  }
})

test('execute breakpoint (mem:ADDR:x) counts calls of a function in another process', async (t) => {
  const child = startProbed(probed.path, 77)
  using c = new Counter(`mem:0x${probed.vaddr.toString(16)}:x`, { pid: child.pid }, { enable: true })
  child.go()
  await child.done
  t.is(c.stat().count, 77n)
})

test('msr/tsc/ (dynamic PMU with an events/ alias) counts on a CPU', (t) => {
  using c = new Counter('msr/tsc/', { pid: 'all', cpu: 0 })
  c.enable()
  spin(20)
  c.disable()
  const { count, timeEnabled } = c.stat()
  t.true(count > 0n)
  t.true(timeEnabled! >= 19_000_000n)
})

test('dynamic PMU by name and type through the typed object', (t) => {
  using c = new Counter({ type: 'dynamic', pmu: 'software', config: 1 }) // PERF_COUNT_SW_TASK_CLOCK
  t.true(c.measure(() => spin(5)).stat.count > 100_000n)
})

test('kprobe: counts when the kprobe PMU exists, else a clear ENOENT', (t) => {
  try {
    using c = new Counter({ type: 'kprobe', symbol: 'ksys_write' })
    const { stat } = c.measure(() => writeSync(2, ''))
    t.true(stat.count >= 1n)
  } catch (e) {
    t.true(e instanceof PerfEventError)
    const err = e as PerfEventError
    t.is(err.code, 'ENOENT')
    t.regex(err.hint ?? '', /kprobe PMU is missing/)
    t.log(`kprobe PMU absent here: ${err.hint}`)
  }
})
