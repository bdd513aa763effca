// Profile a JS function with cpu-clock (or any event) and export the profile in every format:
// flame graph SVG, pprof, folded stacks, Chrome .cpuprofile, Firefox Profiler (.json).
//   node --perf-basic-prof --interpreted-frames-native-stack examples/profile-hot.js [out-dir]
// Without --perf-basic-prof, JS frames stay unnamed and the profile (and stderr) says how to fix it.
const { profile } = require('perf-event-open')
const fs = require('node:fs')
const path = require('node:path')

const outDir = process.argv[2] ?? fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'profile-'))
fs.mkdirSync(outDir, { recursive: true })

/** CPU time of this thread, ns (the wall clock would count time other processes take). */
function cpuNs() {
  return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
}

function leaf(n) {
  let x = 0
  for (let i = 0; i < n; i++) x += Math.sqrt(i + (x % 7))
  return x
}
function parse() {
  return JSON.parse(JSON.stringify({ a: Array.from({ length: 2000 }, (_, i) => ({ i, s: `v${i}` })) })).a.length
}
function hotA() {
  return leaf(300000)
}
function hotB() {
  return leaf(100000) + parse()
}

async function main() {
  const p = await profile(() => {
    const end = cpuNs() + 1e9 // one second of this thread's CPU
    let s = 0
    while (cpuNs() < end) s += hotA() + hotB()
    return s
  })
  console.log(p.top(10).table)
  for (const w of p.warnings) console.log(`note: ${w}`)
  for (const ext of ['svg', 'pb.gz', 'folded', 'cpuprofile', 'json']) {
    const file = path.join(outDir, `hot.${ext}`)
    await p.write(file)
    console.log(`wrote ${file} (${fs.statSync(file).size} bytes)`)
  }
}
main()
