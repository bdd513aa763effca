// stat() of a hardware counter without a system call (src/user_read.rs), on the real armv8_pmuv3
// driver in the emulated arm64 guest. guest.cjs runs this file with kernel.perf_user_access 1 (the
// kernel lets EL0 read the PMU counters of a task that mapped its event) and 0 (it does not: every
// stat() is a read(2)). Under icount the instructions between two reads are exact, so a user-space
// read and the read(2) right after it differ by the same number of instructions every time.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readSync } from 'node:fs'
import { Counter, CounterGroup } from 'perf-event-open'
import { AS_USER, work } from './guest'

const log = (s: string) => console.log(`# ${s}`)
const ON = readFileSync('/proc/sys/kernel/perf_user_access', 'utf8').trim() === '1'

/** read(2) of the counter's fd: count, time enabled, time running, id (the layout stat() asks for). */
function readSyscall(c: Counter): { count: bigint; timeEnabled: bigint; timeRunning: bigint; id: bigint } {
  const b = Buffer.alloc(32)
  assert.equal(readSync(c.fd, b, 0, 32, null), 32)
  return { count: b.readBigUInt64LE(0), timeEnabled: b.readBigUInt64LE(8), timeRunning: b.readBigUInt64LE(16), id: b.readBigUInt64LE(24) }
}

test(`userSpaceRead is ${ON} with kernel.perf_user_access ${ON ? 1 : 0}; software, inherited and other-thread counters use read(2)`, () => {
  using c = new Counter('instructions:u')
  assert.equal(c.userSpaceRead, ON)
  using sw = new Counter('task-clock:u')
  assert.equal(sw.userSpaceRead, false)
  using inherited = new Counter('instructions:u', undefined, { inherit: 'newChild' })
  assert.equal(inherited.userSpaceRead, false)
  using lost = new Counter('instructions:u', undefined, { statFormat: { lostRecords: true } })
  assert.equal(lost.userSpaceRead, false)
})

test('stat() and read(2) agree: each read(2) lies between the stat() before and after it, and a disabled counter reads the same both ways', () => {
  using c = new Counter('instructions:u')
  for (let i = 0; i < 50; i++) readSyscall(c) // the fd is duplicated on first use; fs.readSync tiers up
  for (let round = 0; round < 8; round++) {
    c.enable()
    work(20_000)
    const a = c.stat()
    const b = readSyscall(c)
    const a2 = c.stat()
    c.disable()
    const d = c.stat()
    if (round < 2 || round === 7) log(`round ${round}: stat() ${a.count} (enabled ${a.timeEnabled} ns), read(2) ${b.count} (${b.timeEnabled} ns), stat() ${a2.count} (${a2.timeEnabled} ns)`)
    assert.ok(a.count <= b.count && b.count <= a2.count, `round ${round}: counts ${a.count}, ${b.count}, ${a2.count}`)
    assert.ok(a.timeEnabled <= b.timeEnabled && b.timeEnabled <= a2.timeEnabled, `round ${round}: times enabled ${a.timeEnabled}, ${b.timeEnabled}, ${a2.timeEnabled}`)
    for (const s of [a, a2]) assert.equal(s.timeRunning, s.timeEnabled, 'a single counter is never multiplexed here')
    assert.equal(a.id, b.id)
    assert.deepEqual(readSyscall(c), { count: d.count, timeEnabled: d.timeEnabled, timeRunning: d.timeRunning, id: d.id }, 'disabled: the same values')
    if (round % 3 === 2) {
      c.reset()
      assert.equal(c.stat().count, 0n, 'reset')
      assert.equal(readSyscall(c).count, 0n, 'reset (read(2))')
    }
  }
})

test('multiplexed hardware counters: stat() falls back whenever a counter is off the PMU, and stays right', () => {
  const counters = Array.from({ length: 12 }, () => new Counter('instructions:u', undefined, { enable: true }))
  for (const c of counters) for (let i = 0; i < 20; i++) readSyscall(c)
  try {
    let multiplexed = 0
    for (let round = 0; round < 20; round++) {
      work(30_000)
      for (const c of counters) {
        const a = c.stat()
        const b = readSyscall(c)
        assert.ok(b.count >= a.count && b.count - a.count < 100_000n, `${a.count} then ${b.count}`)
        assert.ok(a.timeRunning <= a.timeEnabled)
        if (a.timeRunning < a.timeEnabled) multiplexed++
      }
    }
    log(`12 counters on a PMU of fewer: ${multiplexed} of 240 reads showed multiplexing`)
    assert.ok(multiplexed > 0, 'the PMU multiplexed them')
  } finally {
    for (const c of counters) c.close()
  }
})

test('a sampler takes over the mapping: stat() then reads with read(2), and stays right', () => {
  using c = new Counter('instructions:u', undefined, { sampleOn: { count: 1_000_000n } })
  const s = c.sampler(3)
  assert.equal(c.userSpaceRead, false)
  c.enable()
  work(50_000)
  c.disable()
  const st = c.stat()
  assert.equal(st.count, readSyscall(c).count)
  s.close()
})

test('groups read with read(2) (one call for all members)', () => {
  using g = new CounterGroup('instructions:u')
  g.add('cycles:u')
  const { stat } = g.measure(() => work(10_000))
  assert.equal(stat.members[0].count, stat.members[1].count)
})

test('kernel instructions per stat(): none in user space (root only: counting the kernel needs privilege)', { skip: AS_USER ? 'counting kernel instructions needs root at perf_event_paranoid 2' : false }, () => {
  using c = new Counter('instructions:u', undefined, { enable: true })
  using k = new Counter('instructions:k')
  for (let i = 0; i < 2000; i++) c.stat()
  // QEMU sometimes executes a block around an EL0 PMU read again under icount (bench/icount/stat.ts):
  // that only adds instructions, so the least of 5 rounds is the cost.
  const rounds: number[] = []
  for (let r = 0; r < 5; r++) {
    k.reset()
    k.enable()
    for (let i = 0; i < 1000; i++) c.stat()
    k.disable()
    rounds.push(Number(k.stat().count) / 1000)
  }
  const perCall = Math.min(...rounds)
  log(`kernel instructions per stat() with perf_user_access ${ON ? 1 : 0}: ${perCall.toFixed(1)} (rounds ${rounds.map((r) => r.toFixed(1)).join(' ')})`)
  if (ON) assert.ok(perCall < 50, `${perCall} kernel instructions per stat()`)
  else assert.ok(perCall > 300, `${perCall} kernel instructions per stat()`)
})
