import test from 'ava'
import { Counter, CounterGroup } from '../dist/index.js'
import { hardwareAvailable } from './helpers.ts'

const hw = hardwareAvailable()
if (!hw.ok) console.log(`SKIP hardware tests: no hardware PMU here (${hw.reason})`)
const hwTest = hw.ok ? test : test.skip

hwTest('instructions:u of a JS loop', (t) => {
  using c = new Counter('instructions:u')
  const { stat } = c.measure(() => {
    let x = 0
    for (let i = 0; i < 1e6; i++) x += i
    return x
  })
  t.true(stat.count > 1_000_000n)
})

hwTest('every generic hardware event opens or is refused with a PerfEventError', (t) => {
  for (const name of ['cycles', 'instructions', 'cache-references', 'cache-misses', 'branches', 'branch-misses', 'bus-cycles', 'stalled-cycles-frontend', 'stalled-cycles-backend', 'ref-cycles', 'L1-dcache-load-misses', 'LLC-loads', 'dTLB-load-misses', 'iTLB-loads', 'branch-loads', 'node-loads']) {
    try {
      new Counter(`${name}:u`).close()
      t.pass()
    } catch (e) {
      t.is((e as Error).name, 'PerfEventError', name)
    }
  }
})

hwTest('IPC from a cycles/instructions group; multiplexing shows in the stat', (t) => {
  using g = new CounterGroup('cycles:u')
  g.add('instructions:u')
  const { stat } = g.measure(() => {
    let x = 0
    for (let i = 0; i < 1e6; i++) x += i
    return x
  })
  t.true(stat.members[0].count > 0n && stat.members[1].count > 0n)
  t.is(stat.multiplexed, stat.timeRunning < stat.timeEnabled)
})
