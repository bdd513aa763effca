// The crate's README example in JS: count the instructions of fib(30) on this thread and
// sample it at 1 kHz with an 8-byte user stack in each sample. Where the machine has no
// hardware PMU (VMs, CI), it says so and runs the same code with the cpu-clock software event.
//   node examples/sample-fib.js
const { Counter, PerfEventError } = require('perf-event-open')

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

const options = {
  sampleOn: { freq: 1000 }, // 1000 samples per second
  sampleFormat: { userStack: 8 }, // an 8-byte user stack in each sample
}

let counter
try {
  counter = new Counter('instructions', undefined, options)
} catch (e) {
  if (!(e instanceof PerfEventError) || e.code !== 'ENOENT') throw e
  console.log(`instructions: unavailable (${e.code}): ${e.hint}`)
  console.log('Running the same code with the cpu-clock software event instead.\n')
  counter = new Counter('cpu-clock', undefined, options)
}
const sampler = counter.sampler(10) // 2^10 pages for the ring buffer

counter.enable()
fib(30)
counter.disable()

console.log(`${counter.stat().count} ${counter.label === 'instructions' ? 'instructions retired' : 'ns of cpu-clock'}`)
const records = sampler.drain()
for (const r of records.slice(0, 5)) {
  console.log(r.type, r.priv, r.type === 'sample' ? r.userStack : '')
}
console.log(`… ${records.length} records in all`)
sampler.close()
counter.close()
