import test from 'ava'
import { Counter, CounterGroup, PerfEventError } from '../dist/index.js'
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { FIXTURES, FRESH_BYTES, testUnless, touchFreshPages, tracefsMounted } from './helpers.ts'

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
  const g = new CounterGroup('task-clock')
  const member = t.throws(() => g.add('cs', { inherit: 'newChild' } as never), { instanceOf: TypeError })
  t.regex(member!.message, /Expected no options\.inherit for a CounterGroup or its members/)
  // The list of accepted options is honest: it does not offer inherit, to a member or to a leader.
  for (const e of [t.throws(() => g.add('cs', { colour: 1 } as never)), t.throws(() => new CounterGroup('task-clock', undefined, { colour: 1 } as never))]) {
    t.true(e instanceof TypeError)
    t.regex(e!.message, /^Unknown option options\.colour; expected one of: .*\bexclude\b/)
    t.notRegex(e!.message, /\binherit\b/)
  }
  // A counter still takes it, and lists it.
  t.regex(t.throws(() => new Counter('task-clock', {}, { colour: 1 } as never))!.message, /\binherit\b/)
  g.close()
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

// Members from another PMU than the leader's (task-clock/cpu-clock: hrtimer PMUs; page-faults and
// context-switches: perf_swevent; tracepoints) used to stop counting after the first measure() on
// Linux 6.18: the group ioctls enable the leader before its members, and a member enabled while its
// leader is running waits for the thread's next context switch (README "Groups").
const ROUNDS = 5

/**
 * Maps fresh memory (FRESH_BYTES is above glibc's mmap threshold) and returns a function that
 * touches its first `n` pages: `n` page faults, with no allocation and quickly enough that the
 * thread is rarely switched out meanwhile (a context switch would hide the kernel behaviour by
 * scheduling a waiting member in).
 */
function freshPages(n = 64): () => number {
  const b = Buffer.allocUnsafeSlow(FRESH_BYTES)
  return () => {
    // Page 0 holds malloc's chunk header (already faulted in).
    for (let i = 1; i <= n; i++) b[i * 4096] = 1
    return n
  }
}

function writes(n: number): number {
  const fd = openSync('/dev/null', 'w')
  try {
    for (let i = 0; i < n; i++) writeSync(fd, 'x')
  } finally {
    closeSync(fd)
  }
  return n
}

/** Opens a group of a leader and a member. */
function tracepointGroup(leader: string, member: string): CounterGroup {
  const g = new CounterGroup(leader)
  try {
    g.add(member)
  } catch (e) {
    g.close()
    throw e
  }
  return g
}

/** Why tracepoints cannot be used here, or '': decided when the file loads, by opening the group once. */
const tracepointReason = (() => {
  if (!tracefsMounted()) return 'tracefs is not mounted'
  try {
    tracepointGroup('page-faults', 'syscalls:sys_enter_write').close()
    return ''
  } catch (e) {
    if (e instanceof PerfEventError && (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'ENOENT')) return `${e.code}: ${e.hint ?? e.message}`
    throw e
  }
})()
const withTracepoints = testUnless(tracepointReason)

test('measure() five times: a page-faults member of a task-clock leader counts every fresh page each time', (t) => {
  using g = new CounterGroup('task-clock')
  g.add('page-faults')
  for (const touch of [freshPages, () => touchFreshPages]) {
    for (let k = 0; k < ROUNDS; k++) {
      const { result: pages, stat } = g.measure(touch())
      const [clock, faults] = stat.members.map((m) => m.count)
      t.log(`round ${k}: task-clock ${clock} ns, page-faults ${faults} of ${pages} fresh pages`)
      t.true(clock > 0n)
      t.true(faults >= BigInt(pages), `round ${k}: page-faults ${faults} < ${pages} pages`)
      t.true(faults < BigInt(pages) + 1000n, `round ${k}: page-faults ${faults}`)
    }
  }
})

for (const [leader, options] of [['cpu-clock', {}], ['task-clock', { pin: true }]] as const) {
  test(`measure() five times: page-faults and minor-faults members of a ${leader} leader ${JSON.stringify(options)}`, (t) => {
    using g = new CounterGroup(leader, undefined, options)
    g.add('page-faults')
    g.add('minor-faults')
    for (let k = 0; k < ROUNDS; k++) {
      const { result: pages, stat } = g.measure(freshPages())
      const [, faults, minor] = stat.members.map((m) => m.count)
      t.true(faults >= BigInt(pages), `round ${k}: page-faults ${faults}`)
      t.is(minor, faults, `round ${k}`)
    }
  })
}

test('measure() five times: a task-clock member of a page-faults leader runs every time', (t) => {
  using g = new CounterGroup('page-faults')
  g.add('task-clock')
  for (let k = 0; k < ROUNDS; k++) {
    const { result: pages, stat } = g.measure(freshPages())
    const [faults, clock] = stat.members.map((m) => m.count)
    t.true(faults >= BigInt(pages), `round ${k}: page-faults ${faults}`)
    // Faulting 64 fresh pages takes tens of microseconds of CPU: the clock ran with its leader.
    t.true(clock > 10_000n, `round ${k}: task-clock ${clock} ns`)
  }
})

withTracepoints('measure() five times: a tracepoint member of a page-faults leader counts every write', (t) => {
  using g = tracepointGroup('page-faults', 'syscalls:sys_enter_write')
  for (let k = 0; k < ROUNDS; k++) {
    const { stat } = g.measure(() => writes(100))
    t.is(stat.members[1].count, 100n, `round ${k}`)
  }
})

withTracepoints('measure() five times: a page-faults member of a tracepoint leader counts every fresh page', (t) => {
  using g = tracepointGroup('syscalls:sys_enter_write', 'page-faults')
  for (let k = 0; k < ROUNDS; k++) {
    const touch = freshPages()
    const { result, stat } = g.measure(() => [writes(7), touch()] as const)
    t.is(stat.members[0].count, 7n, `round ${k}`)
    t.true(stat.members[1].count >= BigInt(result[1]), `round ${k}: page-faults ${stat.members[1].count}`)
  }
})

test('enable() twice, and a member added to a leader opened with enable: true, count from then on', (t) => {
  let touch = freshPages()
  using g = new CounterGroup('task-clock', undefined, { enable: true })
  g.add('page-faults')
  let pages = touch()
  let faults = g.stat().members[1].count
  t.true(faults >= BigInt(pages), `added to a running leader: page-faults ${faults} < ${pages}`)
  g.disable()
  g.reset()
  touch = freshPages()
  g.enable()
  g.enable()
  pages = touch()
  g.disable()
  faults = g.stat().members[1].count
  t.true(faults >= BigInt(pages), `after enable() twice: page-faults ${faults} < ${pages}`)
  freshPages()()
  t.is(g.stat().members[1].count, faults, 'disabled: no more counts')
})

test('C: per-member enable (leader last) counts exactly where the group ioctls lose a member', (t) => {
  mkdirSync(join(FIXTURES, 'build'), { recursive: true })
  const exe = join(FIXTURES, 'build', 'group-reenable')
  execFileSync('gcc', ['-O1', '-o', exe, join(FIXTURES, 'group-reenable.c')])
  // Output: one line per sequence, "<sequence> <member counts of round 1..4>".
  const out = execFileSync(exe, ['task-clock', 'page-faults'], { encoding: 'utf8' })
  t.log(out.trim())
  const rows = Object.fromEntries(out.trim().split('\n').map((l) => { const [k, ...v] = l.split(' '); return [k, v.map(Number)] }))
  t.deepEqual(rows['each'], [64, 64, 64, 64])
})
