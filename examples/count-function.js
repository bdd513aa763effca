// Counts what a JS function costs on this thread: CPU time, page faults and context
// switches from software events (always available), and instructions where the machine
// has a hardware PMU. Run: npm run demo
const { Counter, CounterGroup, PerfEventError } = require('perf-event-open')

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

const group = new CounterGroup('task-clock')
group.add('page-faults')
group.add('context-switches')
const { result, stat } = group.measure(() => fib(27))
console.log(`fib(27) = ${result}`)
for (const m of stat.members) console.log(`  ${m.label.padEnd(18)} ${m.count}`)
console.log(`  (group enabled ${stat.timeEnabled} ns, running ${stat.timeRunning} ns${stat.multiplexed ? ', multiplexed' : ''})`)
group.close()

try {
  const instructions = new Counter('instructions:u')
  const { stat } = instructions.measure(() => fib(27))
  instructions.close()
  console.log(`  instructions:u     ${stat.count}`)
} catch (e) {
  if (!(e instanceof PerfEventError)) throw e
  console.log(`  instructions:u     unavailable (${e.code}): ${e.hint ?? e.message}`)
}
