// Counts what a JS function costs on this thread: CPU time, page faults and context
// switches from software events (always available), and instructions where the machine
// has a hardware PMU. Run: npm run demo
const { Counter, CounterGroup, PerfEventError } = require('perf-event-open')

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

// CPU time alone: a clock event (task-clock, cpu-clock) counts exactly on its own or as a group
// leader, but software events grouped under a clock leader can read short (kernel behaviour).
const clock = new Counter('task-clock')
// Events counted together and read atomically: a page-faults leader counts its members exactly.
const group = new CounterGroup('page-faults')
group.add('context-switches')

clock.enable()
const { result, stat } = group.measure(() => fib(27))
clock.disable()
const ns = clock.stat().count
console.log(`fib(27) = ${result}`)
console.log(`  task-clock         ${(Number(ns) / 1e6).toFixed(3)} ms of CPU time (${ns} ns)`)
const [faults, switches] = stat.members
console.log(`  page-faults        ${faults.count} page faults`)
console.log(`  context-switches   ${switches.count} context switches`)
console.log(`  (group enabled ${stat.timeEnabled} ns, running ${stat.timeRunning} ns${stat.multiplexed ? ', multiplexed' : ''})`)
group.close()
clock.close()

try {
  const instructions = new Counter('instructions:u')
  const { stat } = instructions.measure(() => fib(27))
  instructions.close()
  console.log(`  instructions:u     ${stat.count} instructions (user space)`)
} catch (e) {
  if (!(e instanceof PerfEventError)) throw e
  console.log(`  instructions:u     unavailable (${e.code}): ${e.hint ?? e.message}`)
}
