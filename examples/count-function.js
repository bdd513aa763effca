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
// Without privilege (kernel.perf_event_paranoid 2) both count user space only: their labels end in ':u'.
const group = new CounterGroup('page-faults')
// Context switches happen in the kernel: where the kernel refuses kernel-mode counting they cannot
// be counted at all (a user-space count would always be 0), and the error says why and what to change.
let switchesRefused
try {
  group.add('context-switches')
} catch (e) {
  if (!(e instanceof PerfEventError)) throw e
  switchesRefused = e
}

clock.enable()
const { result, stat } = group.measure(() => fib(27))
clock.disable()
const ns = clock.stat().count
console.log(`fib(27) = ${result}`)
console.log(`  ${clock.label.padEnd(18)} ${(Number(ns) / 1e6).toFixed(3)} ms of CPU time (${ns} ns)`)
const [faults, switches] = stat.members
console.log(`  ${faults.label.padEnd(18)} ${faults.count} page faults`)
if (switches) console.log(`  ${switches.label.padEnd(18)} ${switches.count} context switches`)
else console.log(`  context-switches   not counted (${switchesRefused.code}): ${switchesRefused.hint}`)
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
