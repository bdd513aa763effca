// Hardware events on any machine with a hardware PMU: no exact values, so these hold on bare metal
// too (`node --import tsx --test __test__/emulated/hardware.test.ts`). CI runs them in the emulated
// arm64 guest (scripts/emulated/run.sh), where the kernel's armv8_pmuv3 driver drives QEMU's PMU;
// __test__/emulated/arm64-pmu.test.ts has the exact counts there.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Counter, CounterGroup, PerfEventError } from 'perf-event-open'

const loop = () => {
  let x = 0
  for (let i = 0; i < 1e6; i++) x += i
  return x
}

test('instructions:u of a JS loop: at least one instruction per iteration', () => {
  using c = new Counter('instructions:u')
  const { stat } = c.measure(loop)
  assert.ok(stat.count > 1_000_000n, `${stat.count}`)
  assert.equal(stat.timeEnabled, stat.timeRunning)
})

test('every generic hardware event opens or is refused with ENOENT/EOPNOTSUPP and a hint', () => {
  const opened: string[] = []
  for (const name of ['cycles', 'instructions', 'cache-references', 'cache-misses', 'branches', 'branch-misses', 'bus-cycles', 'stalled-cycles-frontend', 'stalled-cycles-backend', 'ref-cycles', 'L1-dcache-load-misses', 'LLC-loads', 'dTLB-load-misses', 'iTLB-loads', 'branch-loads', 'node-loads']) {
    try {
      new Counter(`${name}:u`).close()
      opened.push(name)
    } catch (e) {
      assert.ok(e instanceof PerfEventError, `${name}: ${e}`)
      assert.ok(['ENOENT', 'EOPNOTSUPP', 'EINVAL'].includes(e.code), `${name}: ${e.code}`)
      assert.ok((e.hint ?? '').length > 20, `${name}: a hint`)
    }
  }
  console.log(`# opened: ${opened.join(', ')}`)
  assert.ok(opened.includes('cycles') && opened.includes('instructions'))
})

test('IPC from a cycles/instructions group; multiplexing shows in the stat', () => {
  using g = new CounterGroup('cycles:u')
  g.add('instructions:u')
  const { stat } = g.measure(loop)
  const [cycles, instructions] = stat.members.map((m) => m.count)
  console.log(`# cycles:u ${cycles}, instructions:u ${instructions}: IPC ${(Number(instructions) / Number(cycles)).toFixed(3)}`)
  assert.ok(cycles > 0n && instructions > 1_000_000n)
  assert.equal(stat.multiplexed, stat.timeRunning < stat.timeEnabled)
})
