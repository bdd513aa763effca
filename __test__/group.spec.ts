import test from 'ava'
import { CounterGroup, PerfEventError } from '../dist/index.js'
import { touchFreshPages } from './helpers.ts'

test('one atomic read returns every member, matched by id', (t) => {
  using g = new CounterGroup('task-clock')
  t.is(g.add('page-faults'), 1)
  t.is(g.add({ type: 'software', name: 'ctxSwitch' }), 2)
  const { result: pages, stat } = g.measure(touchFreshPages)
  t.is(stat.members.length, 3)
  t.deepEqual(stat.members.map((m) => m.label), ['task-clock', 'page-faults', 'ctxSwitch'])
  t.deepEqual(stat.members.map((m) => m.id), g.members.map((m) => m.id))
  t.is(new Set(stat.members.map((m) => m.id)).size, 3)
  t.true(stat.members[0].count > 0n)
  t.true(stat.members[1].count >= BigInt(pages), `faults ${stat.members[1].count}`)
  t.is(stat.timeEnabled, stat.timeRunning)
  t.false(stat.multiplexed)
  t.false(stat.neverRan)
  t.is(stat.members[1].scaled, stat.members[1].count)
})

test('group enable/disable/reset act on all members', (t) => {
  using g = new CounterGroup('page-faults')
  g.add('minor-faults')
  touchFreshPages()
  t.deepEqual(g.stat().members.map((m) => m.count), [0n, 0n])
  t.true(g.stat().neverRan)
  g.enable()
  const pages = touchFreshPages()
  g.disable()
  const [a, b] = g.stat().members.map((m) => m.count)
  // Both members saw the same faults (no major faults here), during the same enabled window.
  t.true(a >= BigInt(pages), `${a}`)
  t.is(a, b)
  touchFreshPages()
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
