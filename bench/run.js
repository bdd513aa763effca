// Benchmarks (not tests): each figure is printed beside a native baseline measured in the same run.
//   node bench/run.js [counting] [sampling] [rss]     (no argument: all; npm run bench builds first)
// counting: 1. stat() latency from JS vs Counter::stat() in a native Rust loop (bench/native)
//           2. require('perf-event-open') to the first counter read, in fresh processes
// sampling: 3. records/s decoded into JS vs the crate parsing the same kind of full ring natively
//           4. overhead of 1 kHz sampling with async drain on a CPU-bound JS loop
// rss:      5. RSS after 10 M records vs after 1 M records drained (~15 s)
// batches:  P3a columns (sampler.batch) vs the crate's parser over the same ring, in this process,
//           for basic samples and for deep call chains; P3b record objects built from batches vs the same
const { execFileSync } = require('node:child_process')
// Run with --expose-gc (npm run bench does) so RSS is read after a collection.
const path = require('node:path')

const ITER = Number(process.env.BENCH_ITER ?? 200_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const NATIVE = path.join(__dirname, 'native', 'target', 'release', 'perf-event-open-bench-native')
const sections = process.argv.slice(2)
const want = (s) => sections.length === 0 || sections.includes(s)

function native(...args) {
  return JSON.parse(execFileSync(NATIVE, args.map(String), { encoding: 'utf8' }))
}

function spin(ms) {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) x++
  return x
}

execFileSync('cargo', ['build', '--release', '--quiet'], { cwd: path.join(__dirname, 'native'), stdio: 'inherit' })
const { Counter } = require('perf-event-open')

if (want('counting')) {
  // Thread CPU time, from a second task-clock counter of this thread (the native side does the same).
  const jsStat = () => {
    const c = new Counter('task-clock')
    c.enable()
    const clock = new Counter('task-clock', undefined, { enable: true })
    for (let i = 0; i < 20_000; i++) c.stat() // warm up the JIT
    const perRun = []
    for (let r = 0; r < RUNS; r++) {
      let sink = 0n
      const t0 = clock.stat().count
      for (let i = 0; i < ITER; i++) sink += c.stat().count
      perRun.push(Number(clock.stat().count - t0) / ITER)
      if (sink === -1n) console.log(sink)
    }
    c.close()
    clock.close()
    return perRun
  }
  // Interleave native and JS rounds so that both see the same machine state.
  const nativeRuns = []
  const jsRuns = []
  for (let round = 0; round < 3; round++) {
    nativeRuns.push(median(native("stat", ITER, RUNS)))
    jsRuns.push(median(jsStat()))
  }
  const nat = median(nativeRuns)
  const js = median(jsRuns)
  console.log(`P1 stat(): JS ${js.toFixed(1)} ns/op, native read(2) loop ${nat.toFixed(1)} ns/op (thread CPU time), ratio ${(js / nat).toFixed(2)}x (goal <= 1.2x)`)
  console.log(`  rounds (median of ${RUNS} runs x ${ITER} reads each): JS [${jsRuns.map((x) => x.toFixed(1))}] native [${nativeRuns.map((x) => x.toFixed(1))}]`)

  // P2: enable + disable + group read of 4 software events, vs the same in a native loop.
  const { CounterGroup } = require('perf-event-open')
  const G_ITER = Math.round(ITER / 2)
  const jsGroup = () => {
    const g = new CounterGroup('task-clock')
    for (const e of ['page-faults', 'cs', 'cpu-migrations']) g.add(e)
    const clock = new Counter('task-clock', undefined, { enable: true })
    for (let i = 0; i < 20_000; i++) (g.enable(), g.disable(), g.stat())
    const perRun = []
    for (let r = 0; r < RUNS; r++) {
      let sink = 0n
      const t0 = clock.stat().count
      for (let i = 0; i < G_ITER; i++) {
        g.enable()
        g.disable()
        sink += g.stat().members[1].count
      }
      perRun.push(Number(clock.stat().count - t0) / G_ITER)
      if (sink === -1n) console.log(sink)
    }
    g.close()
    clock.close()
    return perRun
  }
  const gNat = []
  const gJs = []
  for (let round = 0; round < 3; round++) {
    gNat.push(median(native('group', G_ITER, RUNS)))
    gJs.push(median(jsGroup()))
  }
  const gn = median(gNat)
  const gj = median(gJs)
  console.log(`P2 enable+disable+group.stat() of 4 software events: JS ${gj.toFixed(1)} ns, native ${gn.toFixed(1)} ns (thread CPU time), ratio ${(gj / gn).toFixed(2)}x (goal <= 1.15x)`)
  console.log(`  rounds (median of ${RUNS} runs x ${G_ITER} each): JS [${gJs.map((x) => x.toFixed(1))}] native [${gNat.map((x) => x.toFixed(1))}]`)

  // CPU time of the fresh process (all its threads) and wall time, from before require() to after the first read.
  const script = `const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }; const c0 = cpu(), t0 = process.hrtime.bigint(); const { Counter } = require('perf-event-open'); const c = new Counter('task-clock'); c.enable(); c.stat(); console.log(JSON.stringify({ cpu: cpu() - c0, wall: Number(process.hrtime.bigint() - t0) / 1e6, modules: Object.keys(require.cache).length }))`
  const req = []
  for (let r = 0; r < RUNS; r++) req.push(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..') })))
  const reqCpu = req.map((x) => x.cpu)
  console.log(`require() to first counter read: median ${median(reqCpu).toFixed(1)} ms CPU (wall ${median(req.map((x) => x.wall)).toFixed(1)} ms) over ${RUNS} fresh processes, ${req[0].modules} modules loaded [${reqCpu.map((x) => x.toFixed(1))}] (goal <= 10 ms)`)
}

// Basic samples: ip + tid/pid + time, cpu-clock every 10 us (bench/native basic_sample_opts).
const basic = { sampleOn: { count: 10_000 }, sampleFormat: { codeAddr: true }, recordIdFormat: { task: true, time: true } }

if (want('batches')) {
  // Thread CPU time (this thread's task-clock), not wall time: other work shares the CPUs.
  const clock = new Counter('task-clock', undefined, { enable: true })
  const cpu = () => Number(clock.stat().count)
  const spinCpu = (ms) => {
    const end = cpu() + ms * 1e6
    let x = 0
    while (cpu() < end) for (let i = 0; i < 1000; i++) x++
    return x
  }
  const deep = (n, ms) => (n === 0 ? spinCpu(ms) : deep(n - 1, ms) + 1)
  const kinds = [
    ['basic samples (ip, tid/pid, time)', basic, () => spinCpu(400)],
    ['call-chain samples (JS recursion 45 deep)', { ...basic, sampleOn: { count: 50_000 }, sampleFormat: { codeAddr: true, callChain: {} } }, () => { for (let i = 0; i < 20; i++) deep(45, 20) }],
  ]
  const REPS = 5
  for (const [label, opts, work] of kinds) {
    const c = new Counter('cpu-clock', undefined, opts)
    const s = c.sampler(8)
    c.enable()
    work()
    c.disable()
    const first = s.peekBatch()
    const records = first.length
    let frames = 0
    let samples = 0
    for (let i = 0; i < first.length; i++) if (first.type[i] === 9) (samples++, (frames += opts.sampleFormat.callChain ? first.callChain(i).length : 0))
    const per = (f) => {
      f() // warm-up
      const t0 = cpu()
      for (let k = 0; k < REPS; k++) f()
      return (cpu() - t0) / REPS / records // ns of thread CPU per record
    }
    const crate = []
    const cols = []
    const objs = []
    for (let round = 0; round < 7; round++) {
      crate.push(per(() => s.parseCrate(true)))
      cols.push(per(() => s.peekBatch()))
      objs.push(per(() => s.peekBatch().records()))
    }
    const [cr, co, ob] = [median(crate), median(cols), median(objs)]
    const ms = (ns) => (1e3 / ns).toFixed(2)
    console.log(`P3 ${label}: ${records} records in a 2^8-page ring${frames ? `, ${(frames / samples).toFixed(1)} call-chain entries per sample` : ''}`)
    console.log(`  P3a columns: ${ms(co)} M/s vs the crate's parser ${ms(cr)} M/s: ${(cr / co).toFixed(2)}x (goal >= ${frames ? 2 : 5}x)`)
    console.log(`  P3b objects from batches: ${ms(ob)} M/s: ${(cr / ob).toFixed(3)}x of the crate's parser (goal >= ${frames ? 0.3 : 0.5}x)`)
    console.log(`  rounds (ns of thread CPU per record, median of 7): crate [${crate.map((x) => x.toFixed(1))}] columns [${cols.map((x) => x.toFixed(1))}] objects [${objs.map((x) => x.toFixed(0))}]`)
    s.close()
    c.close()
  }
  clock.close()
}

if (want('sampling')) {
  const EXP = 8
  const FILL_MS = 400
  const jsDrain = (runs) => {
    const c = new Counter('cpu-clock', undefined, basic)
    const s = c.sampler(EXP)
    const out = []
    for (let r = 0; r < runs; r++) {
      c.enable()
      spin(FILL_MS)
      c.disable()
      const t0 = process.hrtime.bigint()
      const records = s.drain()
      out.push({ records: records.length, ns: Number(process.hrtime.bigint() - t0) })
    }
    s.close()
    c.close()
    return out
  }
  const rate = (xs) => median(xs.map((x) => (x.records * 1e9) / x.ns))
  jsDrain(1) // warm up
  const jsRates = []
  const natRates = []
  for (let round = 0; round < 3; round++) {
    natRates.push(rate(native('drain', EXP, 5, FILL_MS)))
    jsRates.push(rate(jsDrain(5)))
  }
  const js = median(jsRates)
  const nat = median(natRates)
  console.log(`records/s decoded into JS: ${(js / 1e6).toFixed(2)} M/s; crate parsing natively: ${(nat / 1e6).toFixed(2)} M/s; ratio ${(js / nat).toFixed(3)}x (goals >= 0.5x and >= 1 M/s)`)
  console.log(`  rounds (median of 5 full 2^${EXP}-page rings each): JS [${jsRates.map((x) => (x / 1e6).toFixed(2))}] native [${natRates.map((x) => (x / 1e6).toFixed(2))}] M records/s`)

  // Overhead: the same CPU-bound JS work (fib(24) 100 times, yielding between calls so the
  // async drain can run), without and with a 1 kHz cpu-clock sampler drained by for-await.
  const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2))
  // Thread CPU time of the JS thread (its own task-clock): the drain runs on it too.
  const clock = new Counter('task-clock', undefined, { enable: true })
  const fixedWork = async () => {
    const t0 = clock.stat().count
    for (let i = 0; i < 200; i++) {
      fib(24)
      await new Promise((r) => setImmediate(r))
    }
    return Number(clock.stat().count - t0)
  }
  const sampled = async () => {
    const c = new Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 }, wakeUp: { on: { samples: 32 } }, sampleFormat: { codeAddr: true }, recordIdFormat: { time: true } })
    const s = c.sampler(6)
    const ac = new AbortController()
    let n = 0
    const reading = (async () => {
      for await (const r of s.records({ signal: ac.signal })) if (r.type === 'sample') n++
    })()
    c.enable()
    const ns = await fixedWork()
    c.disable()
    ac.abort()
    await reading
    n += s.drain().length
    s.close()
    c.close()
    return { ns, n }
  }
  ;(async () => {
    await fixedWork()
    const plain = []
    const withSampling = []
    let samples = 0
    for (let r = 0; r < 9; r++) {
      plain.push(await fixedWork())
      const x = await sampled()
      withSampling.push(x.ns)
      samples += x.n
    }
    const p = median(plain)
    const w = median(withSampling)
    const [np, nw, nSamples] = native('overhead', 9, 27, 60)
    const jsPct = (w / p - 1) * 100
    const natPct = (nw / np - 1) * 100
    console.log(`P4 1 kHz cpu-clock sampling with async drain on CPU-bound JS: +${jsPct.toFixed(2)} % thread CPU (median ${(w / 1e6).toFixed(1)} ms vs ${(p / 1e6).toFixed(1)} ms over 9 runs; ${samples} samples); native Rust program sampling itself the same way: +${natPct.toFixed(2)} % (${(nw / 1e6).toFixed(1)} vs ${(np / 1e6).toFixed(1)} ms; ${nSamples} samples); difference ${(jsPct - natPct).toFixed(2)} points (goal <= 0.5)`)
    clock.close()
    if (want('rss')) rss()
  })()
} else if (want('rss')) rss()

function rss() {
  // RSS while draining 10 M records: tracepoint samples of getppid(2) (process.ppid makes one call),
  // read after 1 M and after 10 M records, with GC before each reading.
  const c = new Counter('syscalls:sys_enter_getppid', undefined, { sampleOn: { count: 1 }, sampleFormat: { codeAddr: true } })
  const s = c.sampler(8)
  c.enable()
  let drained = 0
  const marks = [1, 2, 5, 10].map((m) => m * 1_000_000)
  const rssAt = []
  const t0 = Date.now()
  while (drained < 10_000_000) {
    for (let i = 0; i < 2000; i++) void process.ppid
    drained += s.drain().length
    if (drained >= marks[rssAt.length]) {
      globalThis.gc?.()
      rssAt.push(process.memoryUsage().rss)
    }
  }
  c.disable()
  const mib = (x) => (x / 2 ** 20).toFixed(1)
  console.log(`RSS after 10 M records: ${mib(rssAt[3])} MiB vs after 1 M: ${mib(rssAt[0])} MiB, ratio ${(rssAt[3] / rssAt[0]).toFixed(3)}x (goal <= 1.05x; ${((Date.now() - t0) / 1000).toFixed(0)} s)`)
  console.log(`  RSS at 1/2/5/10 M records: ${rssAt.map(mib).join(' / ')} MiB; 10 M vs 2 M: ${(rssAt[3] / rssAt[1]).toFixed(3)}x`)
  s.close()
  c.close()
}
