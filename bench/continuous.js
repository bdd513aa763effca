'use strict'
/**
 * Continuous profiling memory and cost: RSS after 1 hour-equivalent of samples at 999 Hz on 4
 * threads vs after 5 minutes, with the aggregating store (`window` mode), and the CPU time per
 * sample of the aggregation.
 *
 * A real hour is not run: samples are fed to `SampleStore.addRaw` (dist/profile/samples.js), the
 * call the drain makes for every sample record, in drain-sized batches (200 ms of samples), with
 * raw call-chain words laid out as the kernel writes them (PERF_CONTEXT_USER marker, then 8-byte
 * user addresses, leaf first). Stacks: 4 000 distinct chains of 12 to 60 frames per thread set,
 * drawn with a Zipf-like skew (a few hot stacks, a long tail), as a service's profile looks.
 * Symbolization is not included (it runs once per window, on distinct addresses only).
 *
 * Run: node --expose-gc bench/continuous.js
 */
const { SampleStore } = require('../dist/profile/samples.js')

const HZ = 999
const THREADS = 4
const CHAINS = 4000
const BATCH_MS = 200
const PID = 4242

// Distinct chains: shared "framework" frames at the root, app frames above, as u32 word pairs.
let seed = 1
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
const chains = []
for (let c = 0; c < CHAINS; c++) {
  const depth = 12 + Math.floor(rnd() * 49)
  const w = new Uint32Array(2 * (depth + 1))
  w[0] = 0xfffffe00 // PERF_CONTEXT_USER
  w[1] = 0xffffffff
  for (let i = 1; i <= depth; i++) {
    // Leaf-side frames vary per chain, root-side frames are shared (100 framework functions).
    const fn = i > depth - 8 ? Math.floor(rnd() * 100) : Math.floor(rnd() * 20000)
    w[2 * i] = 0x40000000 + fn * 64 + 5
    w[2 * i + 1] = 0x7f
  }
  chains.push(w)
}
// Zipf-like pick: index = floor(CHAINS * u^3).
const pick = () => Math.floor(CHAINS * rnd() ** 3)

const perBatch = Math.round((HZ * BATCH_MS) / 1000)
let t = 1_000_000_000
function feed(store, seconds) {
  const batches = (seconds * 1000) / BATCH_MS
  for (let b = 0; b < batches; b++) {
    for (let th = 0; th < THREADS; th++) {
      for (let i = 0; i < perBatch; i++) {
        const w = chains[pick()]
        t += 1_001_001 / THREADS
        store.addRaw(PID + th, PID, Math.floor(t / 2 ** 32), t >>> 0, 1_001_001, w, 0, w.length / 2)
      }
    }
  }
}

const rss = () => {
  globalThis.gc?.()
  return process.memoryUsage().rss
}
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`

const base = rss()
const store = new SampleStore(true)
const c0 = process.cpuUsage()
feed(store, 300)
const c1 = process.cpuUsage(c0)
const at5 = rss()
const n5 = store.samples
feed(store, 3300)
const at60 = rss()
const c2 = process.cpuUsage(c0)
const n60 = store.samples
console.log(`continuous store (window mode), ${THREADS} threads at ${HZ} Hz, ${CHAINS} distinct chains (synthetic, fed through SampleStore.addRaw):`)
console.log(`  after  5 min-equivalent: ${n5} samples, ${store.length} (thread, stack) entries, RSS ${mb(at5)} (${mb(at5 - base)} over start)`)
console.log(`  after 60 min-equivalent: ${n60} samples, ${store.length} (thread, stack) entries, RSS ${mb(at60)} (${mb(at60 - base)} over start)`)
console.log(`  RSS ratio 60 min / 5 min: ${(at60 / at5).toFixed(3)}x (target <= 1.05x)`)
console.log(`  aggregation CPU: ${((1000 * (c1.user + c1.system)) / n5).toFixed(0)} ns/sample (first 5 min, new chains included), ${((1000 * (c2.user + c2.system)) / n60).toFixed(0)} ns/sample over the hour`)
// The same 5 minutes kept per sample (the store without aggregation), for scale.
const flat = new SampleStore(false)
const f0 = rss()
feed(flat, 300)
console.log(`  for scale, 5 min kept per sample (profile() mode): ${flat.length} samples, RSS +${mb(rss() - f0)}`)
