import test from 'ava'
import { CounterGroup, PerfEventError } from '../dist/index.js'

const touch = (pages: number) => {
  const b = Buffer.allocUnsafeSlow(pages * 4096 + 8192)
  for (let i = 0; i < b.length; i += 4096) b[i] = 1
  return b.length
}

test('one atomic read returns every member, matched by id', (t) => {
  using g = new CounterGroup('task-clock')
  t.is(g.add('page-faults'), 1)
  t.is(g.add({ type: 'software', name: 'ctxSwitch' }), 2)
  const { stat } = g.measure(() => touch(256))
  t.is(stat.members.length, 3)
  t.deepEqual(stat.members.map((m) => m.label), ['task-clock', 'page-faults', 'ctxSwitch'])
  t.deepEqual(stat.members.map((m) => m.id), g.members.map((m) => m.id))
  t.is(new Set(stat.members.map((m) => m.id)).size, 3)
  t.true(stat.members[0].count > 0n)
  t.true(stat.members[1].count >= 254n, `faults ${stat.members[1].count}`)
  t.is(stat.timeEnabled, stat.timeRunning)
  t.false(stat.multiplexed)
  t.false(stat.neverRan)
  t.is(stat.members[1].scaled, stat.members[1].count)
})

test('group enable/disable/reset act on all members', (t) => {
  using g = new CounterGroup('page-faults')
  g.add('minor-faults')
  touch(64)
  t.deepEqual(g.stat().members.map((m) => m.count), [0n, 0n])
  t.true(g.stat().neverRan)
  g.enable()
  touch(64)
  g.disable()
  const [a, b] = g.stat().members.map((m) => m.count)
  // Both members saw the same faults (no major faults here), during the same enabled window.
  t.true(a >= 16n, `${a}`)
  t.is(a, b)
  touch(64)
  t.deepEqual(g.stat().members.map((m) => m.count), [a, b])
  g.reset()
  t.deepEqual(g.stat().members.map((m) => m.count), [0n, 0n])
})

test('a tracepoint member with its own filter', (t) => {
  using g = new CounterGroup('task-clock')
  const i = g.add('syscalls:sys_enter_getpid')
  g.setFilter(i, 'common_pid == 0')
  const { stat } = g.measure(() => process.pid)
  t.is(stat.members[i].count, 0n)
})

test('inherit is refused for groups with an explanation', (t) => {
  const err = t.throws(() => new CounterGroup('task-clock', undefined, { inherit: 'newChild' }), { instanceOf: TypeError })
  t.regex(err!.message, /PERF_FORMAT_GROUP/)
})

test('members reject leader-only options; closed group throws ERR_CLOSED', (t) => {
  const g = new CounterGroup('task-clock')
  t.throws(() => g.add('cs', { pin: true } as never), { instanceOf: TypeError, message: /Unknown option options\.pin/ })
  g.close()
  g.close()
  t.true(g.closed)
  const err = t.throws(() => g.stat(), { instanceOf: PerfEventError })
  t.is(err!.code, 'ERR_CLOSED')
  t.throws(() => g.add('cs'), { instanceOf: PerfEventError, message: /closed/ })
})
