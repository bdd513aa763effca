// Hardware events on a real kernel PMU driver: Debian 12's arm64 kernel (armv8_pmuv3) on QEMU's
// emulated PMUv3 with `-icount shift=0` (scripts/emulated/run.sh). Under icount the guest executes one
// instruction per virtual nanosecond and counts every one, so the counts here are exact and the same
// on every run: the tests assert equalities, not ranges. Runs as root and as an unprivileged user at
// perf_event_paranoid 2 (AS_USER), where the kernel refuses kernel-mode counting.
//
// Where QEMU differs from hardware: cycles equal instructions (IPC exactly 1); sampling on
// `instructions` overflows late (QEMU checks that counter's overflow only at certain points: a few of
// the expected samples arrive), so sampling is tested on `cycles`; the PMU implements no cache or
// branch generic events (real arm64 cores have them).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Counter, CounterGroup, PerfEventError, doctor, listEvents, profile } from 'perf-event-open'
import { AS_USER, SPIN, SPIN_SYMBOLS, countSpin, freshPages, runHeld, work } from './guest'

const log = (s: string) => console.log(`# ${s}`)

test('instructions:u and cycles:u of a 2-instruction loop: exact, linear in its length, identical every run', async () => {
  // Lengths of one digit count: parsing the argument costs the same for each.
  const counts: Record<number, bigint[]> = {}
  for (const n of [1e6, 2e6, 4e6, 8e6]) counts[n] = await countSpin(['instructions:u', 'cycles:u'], n)
  const again = await countSpin(['instructions:u', 'cycles:u'], 1e6)
  for (const [n, [i, c]] of Object.entries(counts)) log(`spin ${n}: instructions:u ${i}, cycles:u ${c}`)
  const [base] = counts[1e6]
  const fixed = base - 2_000_000n // the instructions outside the loop (argument parsing, exit)
  log(`${fixed} instructions outside the loop`)
  for (const [n, [i, c]] of Object.entries(counts)) {
    assert.equal(i, fixed + 2n * BigInt(n), `instructions:u of ${n} iterations`)
    assert.equal(c, i, `cycles:u = instructions:u under icount (${n})`)
  }
  assert.deepEqual(again, counts[1e6], 'a second run counts the same')
  assert.ok(fixed > 0n && fixed < 200n, `${fixed} instructions outside the loop`)
})

test('a syscall loop splits exactly into :u and :k, and :u + :k = the unfiltered count', async () => {
  // Syscall counts of one digit count (1000, 2000, 4000): parsing them costs the same.
  const k = 1000
  if (AS_USER) {
    await assert.rejects(countSpin(['instructions:k'], 1e5, k), (e: unknown) => {
      assert.ok(e instanceof PerfEventError, String(e))
      assert.equal(e.code, 'EACCES')
      assert.match(e.hint ?? '', /perf_event_paranoid/)
      return true
    })
    const [u0] = await countSpin(['instructions:u'], 1e5, k)
    const [u1] = await countSpin(['instructions:u'], 1e5, 2 * k)
    const [u2] = await countSpin(['instructions:u'], 1e5, 4 * k)
    log(`user: instructions:u ${u0} / ${u1} / ${u2} with ${k} / ${2 * k} / ${4 * k} getppid()`)
    assert.equal(u2 - u1, 2n * (u1 - u0), 'user instructions linear in the number of syscalls')
    assert.equal((u1 - u0) % BigInt(k), 0n, 'the same user instructions per syscall')
    return
  }
  const [u0, k0, all0] = await countSpin(['instructions:u', 'instructions:k', 'instructions'], 1e5, k)
  const [u1, k1, all1] = await countSpin(['instructions:u', 'instructions:k', 'instructions'], 1e5, 2 * k)
  const [u2] = await countSpin(['instructions:u'], 1e5, 4 * k)
  log(`${k} syscalls: u ${u0} k ${k0} all ${all0}; ${2 * k} syscalls: u ${u1} k ${k1} all ${all1}`)
  const perCallUser = (u1 - u0) / BigInt(k)
  const perCallKernel = Number(k1 - k0) / k
  log(`per getppid(): ${perCallUser} user instructions, ${perCallKernel.toFixed(1)} kernel instructions`)
  assert.equal((u1 - u0) % BigInt(k), 0n, 'the same user instructions per syscall')
  assert.equal(u2 - u1, 2n * (u1 - u0), 'user instructions linear in the number of syscalls')
  assert.ok(perCallUser >= 3n && perCallUser <= 8n, `${perCallUser} user instructions per loop iteration`)
  assert.ok(perCallKernel > 100, `${perCallKernel} kernel instructions per syscall`)
  assert.equal(all0, u0 + k0, ':u + :k = all')
  assert.equal(all1, u1 + k1, ':u + :k = all')
})

test('a group with a hardware leader and software members counts exactly over 5 enable/disable rounds', () => {
  using g = new CounterGroup('instructions:u')
  g.add('cycles:u')
  g.add('page-faults:u')
  g.add('task-clock:u')
  let last = 0n
  for (let round = 1; round <= 5; round++) {
    const touch = freshPages(64)
    const { stat } = g.measure(() => {
      touch()
      return work(100_000)
    })
    const [ins, cyc, faults, clock] = stat.members.map((m) => m.count)
    log(`round ${round}: instructions:u ${ins}, cycles:u ${cyc}, page-faults:u ${faults}, task-clock:u ${clock} ns`)
    assert.equal(cyc, ins, `round ${round}: cycles = instructions under icount`)
    // Each fresh page faults once; V8 may fault a few pages of its own in the window.
    assert.ok(faults >= 64n && faults < 128n, `round ${round}: ${faults} page faults for 64 fresh pages`)
    assert.ok(ins > 300_000n, `round ${round}: ${ins} instructions`)
    assert.ok(clock > 0n, `round ${round}: task-clock ran`)
    assert.equal(stat.timeEnabled, stat.timeRunning, 'never multiplexed')
    last = ins
  }
  assert.equal(g.stat().members[0].count, last, 'disabled after the last round: nothing more counted')
})

test('sampling on cycles:u: the expected number of samples, every IP inside the sampled function, pid/tid/time right', async () => {
  const period = 100_000n
  const n = 5_000_000 // 10^7 instructions in spin()
  const opts = { onExecve: 'enable', sampleOn: { count: period }, sampleFormat: { codeAddr: true }, recordIdFormat: { task: true, time: true } } as const
  const { value: c, code } = await runHeld(SPIN, [String(n)], (pid) => {
    const counter = new Counter('cycles:u', { pid }, opts)
    return { counter, sampler: counter.sampler(6), pid }
  })
  assert.equal(code, 0)
  const total = c.counter.stat().count
  const samples = c.sampler.drain().filter((r) => r.type === 'sample')
  c.sampler.close()
  c.counter.close()
  const [lo, hi] = SPIN_SYMBOLS.spin
  const inSpin = samples.filter((s) => s.codeAddr! >= lo && s.codeAddr! < hi).length
  log(`cycles:u ${total}: ${samples.length} samples (expected ${total / period}), ${inSpin} in spin() [0x${lo.toString(16)}, 0x${hi.toString(16)})`)
  assert.equal(BigInt(samples.length), total / period, 'one sample per period')
  assert.ok(inSpin >= samples.length - 1, `${inSpin} of ${samples.length} IPs inside spin()`)
  for (const s of samples) {
    assert.equal(s.recordId.task!.pid, c.pid)
    assert.equal(s.recordId.task!.tid, c.pid)
  }
  const times = samples.map((s) => s.recordId.time!)
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], 'times increase')
  assert.ok(times.length === 0 || times[0] > 0n)
})

test('profile(fn, { event: "cycles:u" }): a 3:1 workload measures 3:1 within 5 %', async () => {
  function hotA() {
    return work(300_000)
  }
  function hotB() {
    return work(100_000)
  }
  for (let i = 0; i < 10; i++) hotA() + hotB() // eslint-disable-line @typescript-eslint/no-unused-expressions -- tiers settle
  const p = await profile(() => {
    let s = 0
    for (let i = 0; i < 30; i++) s += hotA() + hotB()
    return s
  }, { event: 'cycles:u', period: 200_000 })
  const rows = p.top(200, { by: 'total' }).rows
  const total = (name: string) => rows.filter((r) => r.frame.kind === 'js' && r.frame.name === name).reduce((a, r) => a + r.total, 0)
  const ratio = total('hotA') / total('hotB')
  log(p.top(8).table.replace(/\n/g, '\n# '))
  log(`cycles:u profile: ${p.sampleCount} samples, hotA ${total('hotA')}, hotB ${total('hotB')}: ratio ${ratio.toFixed(3)}`)
  assert.ok(p.sampleCount > 300, `${p.sampleCount} samples`)
  assert.ok(Math.abs(ratio - 3) <= 0.15, `ratio ${ratio}`)
})

test('a sampler faster than perf_event_max_sample_rate is throttled: THROTTLE and UNTHROTTLE records', async () => {
  const { value: c, code } = await runHeld(SPIN, ['20000000'], (pid) => {
    const counter = new Counter('cycles:u', { pid }, { onExecve: 'enable', sampleOn: { count: 2000n }, recordIdFormat: { time: true } })
    return { counter, sampler: counter.sampler(10) }
  })
  assert.equal(code, 0)
  const records = c.sampler.drain()
  c.sampler.close()
  c.counter.close()
  const kinds = (type: string) => records.filter((r) => r.type === type).length
  log(`period 2000 cycles: ${kinds('sample')} samples, ${kinds('throttle')} throttle, ${kinds('unthrottle')} unthrottle, ${kinds('lost')} lost records`)
  assert.ok(kinds('throttle') > 0, 'throttled')
  assert.ok(kinds('unthrottle') > 0, 'unthrottled again')
})

test('doctor() finds the PMU, names the generic events it lacks, and detects QEMU', () => {
  const report = doctor()
  const check = (id: string) => report.checks.find((c) => c.id === id)!
  const hw = check('hardwarePmu')
  log(`doctor: hardwarePmu ${hw.status} ${hw.value}: ${hw.detail}`)
  log(`doctor: environment ${check('environment').value}`)
  assert.equal(hw.status, 'ok')
  assert.match(hw.value, /present/)
  assert.match(hw.detail, /cache-misses/, 'names a generic event this PMU lacks')
  assert.doesNotMatch(hw.detail, /(^|[ ,])cycles([ ,.]|$)/, 'cycles is not among the missing')
  assert.match(check('environment').value, /QEMU/)
})

test('generic events this PMU does not implement: the hint says so and listEvents() marks them', () => {
  assert.throws(() => new Counter('cache-misses:u'), (e: unknown) => {
    assert.ok(e instanceof PerfEventError)
    assert.equal(e.code, 'ENOENT')
    assert.match(e.hint ?? '', /PMU does not implement this generic event/)
    return true
  })
  const list = listEvents()
  const info = (name: string) => list.find((e) => e.name === name)!
  log(`listEvents: cycles opens ${info('cycles').opens}, cache-misses opens ${info('cache-misses').opens} (${info('cache-misses').reason})`)
  assert.equal(info('cycles').opens, true)
  assert.equal(info('instructions').opens, true)
  assert.equal(info('cache-misses').opens, false)
  assert.match(info('cache-misses').reason ?? '', /does not implement/)
})
