// Smoke test of the facade for every runtime CI covers (Node 18/20/22/24, Bun, Deno), run by
// scripts/smoke/runtimes.sh: count task-clock, read a stat, read a group, drain a sampler.
// Plain CommonJS with no test framework, so it runs unchanged everywhere. Work is measured in
// the thread's own CPU time (task-clock), never wall time.
'use strict'
const assert = require('node:assert')
const path = require('node:path')
const { Counter, CounterGroup, buildInfo } = require(path.join(__dirname, '..', '..', 'dist', 'index.js'))

const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : `node ${process.version}`

// Burns at least `ns` of this thread's CPU time.
function spin(clock, ns) {
  const start = clock.stat().count
  let x = 0
  while (clock.stat().count - start < ns) for (let i = 0; i < 10_000; i++) x += i
  return x
}

const clock = new Counter('task-clock')
clock.enable()
spin(clock, 5_000_000n)
const stat = clock.stat()
assert.ok(stat.count >= 5_000_000n, `task-clock counted ${stat.count} ns`)
assert.strictEqual(typeof stat.timeEnabled, 'bigint')
assert.ok(!stat.neverRan)

// page-faults leads: software events under a software (non-clock) leader count exactly.
const group = new CounterGroup('page-faults')
const cs = group.add('context-switches')
const { stat: gstat } = group.measure(() => {
  const pages = []
  for (let i = 0; i < 64; i++) pages.push(Buffer.alloc(1 << 16, 1))
  return pages.length
})
assert.strictEqual(gstat.members.length, 2)
assert.ok(gstat.members[0].count > 0n, `page-faults ${gstat.members[0].count}`)
assert.strictEqual(typeof gstat.members[cs].count, 'bigint')

const sampled = new Counter('task-clock', undefined, { sampleOn: { count: 100_000 }, sampleFormat: { codeAddr: true } })
const sampler = sampled.sampler(4)
sampled.enable()
spin(clock, 10_000_000n)
sampled.disable()
const records = sampler.drain()
const samples = records.filter((r) => r.type === 'sample')
assert.ok(samples.length >= 10, `${samples.length} samples of 100 µs in 10 ms of CPU`)
sampler.close()
sampled.close()
group.close()
clock.close()

const info = buildInfo()
console.log(`${runtime}: ok (variant ${info.variant}; task-clock ${stat.count} ns; page-faults ${gstat.members[0].count}, context-switches ${gstat.members[cs].count}; ${samples.length} samples)`)
