// Smoke test of the musl builds inside an Alpine-like root (scripts/build/musl.sh makes the root
// and runs this with Bun's musl build; arm64 under qemu-user). Plain CommonJS, no test framework.
//   node|bun musl-smoke.cjs <x64|arm64> [<elf> <file offset> <symbol>]
// x64: the loader's libc detection and choice, task-clock counted, cpu-clock sampled, a cpu-clock
// profile symbolized by the musl symbolizer and written as a flame graph, doctor().
// arm64 (qemu-user: perf_event_open is ENOSYS): detection, choice, the addon loads and reports
// ENOSYS with its code, the musl symbolizer names a symbol of an ELF by file offset and writes a
// flame graph. Work is measured in this thread's CPU time (task-clock), never wall time.
'use strict'
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')

const [cpu, elf, offset, symbol] = process.argv.slice(2)
const dist = path.join(__dirname, 'dist')
const loader = require(path.join(dist, 'loading', 'loader.js'))
const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`
const triple = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[cpu]
assert.ok(triple, `usage: musl-smoke.cjs <x64|arm64>, got ${cpu}`)
const ok = (what) => console.log(`ok   ${what}`)

const det = loader.detectLibc()
console.log(`${runtime} on ${process.arch}: loader detects ${det.libc} from ${det.source}`)
assert.strictEqual(det.libc, 'musl')
assert.match(det.source, /^\/proc\/self\/maps/)
const p = require(path.join(dist, 'index.js'))
const info = p.buildInfo()
const installed = fs.readdirSync(__dirname).filter((f) => f.endsWith('.node'))
console.log(`loader's choice: target ${info.target}, variant ${info.variant}, ${info.path} (installed here: ${installed.join(', ')})${info.fittingVariant ? `; fitting variant: ${info.fittingVariant}` : ''}`)
assert.strictEqual(info.target, triple)
assert.strictEqual(path.basename(info.path), `perf-event-open.linux-${cpu}-musl.node`)
ok(`loader chose ${path.basename(info.path)}`)

async function symbolizerChecks() {
  const { symbolizer } = require(path.join(dist, 'profile', 'symbolizer.js'))
  const s = symbolizer()
  console.log(`symbolizer: ${s.symbolizerInfo()}`)
  if (elf) {
    const [r] = await s.symbolizeElf(elf, BigUint64Array.of(BigInt(offset)))
    console.log(`symbolizeElf(${elf}, ${offset}): ${JSON.stringify(r)}`)
    assert.strictEqual(r.name, symbol)
    ok(`musl symbolizer names ${symbol} in ${elf} by file offset`)
  }
  return s
}

async function x64() {
  // Counting: this thread's CPU time.
  const clock = new p.Counter('task-clock')
  clock.enable()
  const spin = (ns) => {
    const start = clock.stat().count
    let x = 0
    while (clock.stat().count - start < ns) for (let i = 0; i < 10_000; i++) x += i
    return x
  }
  spin(20_000_000n)
  const counted = clock.stat()
  console.log(`task-clock: ${counted.count} ns (enabled ${counted.timeEnabled} ns, running ${counted.timeRunning} ns)`)
  assert.ok(counted.count >= 20_000_000n, `task-clock counted ${counted.count} ns`)
  const group = new p.CounterGroup('page-faults')
  group.add('context-switches')
  const { stat: g } = group.measure(() => {
    const pages = []
    for (let i = 0; i < 64; i++) pages.push(Buffer.alloc(1 << 16, 1))
    return pages.length
  })
  console.log(`group: page-faults ${g.members[0].count}, context-switches ${g.members[1].count} (64 fresh 64 KiB buffers)`)
  assert.ok(g.members[0].count > 0n)
  group.close()
  ok('counting: task-clock and a page-faults group')

  // Sampling: cpu-clock every 100 µs of CPU over 20 ms of CPU: 200 samples expected.
  const sampled = new p.Counter('cpu-clock', undefined, { sampleOn: { count: 100_000 }, sampleFormat: { codeAddr: true, period: true } })
  const sampler = sampled.sampler(6)
  sampled.enable()
  spin(20_000_000n)
  sampled.disable()
  const cpuNs = sampled.stat().count
  const samples = sampler.drain().filter((r) => r.type === 'sample')
  const expected = Number(cpuNs / 100_000n)
  console.log(`cpu-clock sampling: ${samples.length} samples for ${cpuNs} ns of cpu-clock (expected ${expected} at one per 100 µs); first ip 0x${samples[0]?.codeAddr?.toString(16)}`)
  // The timer fires a little late under load, so the count runs slightly ahead of the samples.
  const slack = Math.max(3, Math.ceil(expected * 0.05))
  assert.ok(Math.abs(samples.length - expected) <= slack, `${samples.length} samples, expected ${expected} ± ${slack}`)
  assert.ok(samples.every((s) => s.codeAddr > 0n))
  sampler.close()
  sampled.close()
  ok('sampling: cpu-clock samples match its count')

  // A profile symbolized by the musl symbolizer: Math.pow/log/sin on doubles call musl's libm
  // (pow, log, sin in musl's libc.so, exported by name), so those functions are the leaves of a
  // good share of the samples. Bun's own frames stay [unknown] (a stripped binary; JSC writes no
  // perf map).
  await symbolizerChecks()
  let acc = 0
  const prof = await p.profile(() => {
    const start = clock.stat().count
    while (clock.stat().count - start < 300_000_000n) for (let i = 1; i < 100_000; i++) acc += Math.pow(i, 0.31) + Math.log(i) + Math.sin(i * 0.37)
  }, { event: 'cpu-clock', freq: 999 })
  console.log(prof.top(6).table)
  const out = path.join('/tmp', 'musl-profile.svg')
  await prof.write(out)
  const svg = fs.readFileSync(out, 'utf8')
  const leaves = new Map()
  for (let i = 0; i < prof.samples.stack.length; i++) {
    const f = prof.frames[prof.stacks.frame[prof.samples.stack[i]]]
    if (f.kind === 'native' && f.module && /\/(ld-musl-|libc\.musl-)/.test(f.module)) leaves.set(f.name, (leaves.get(f.name) ?? 0) + 1)
  }
  const muslLeaves = [...leaves.values()].reduce((x, y) => x + y, 0)
  const named = [...leaves].sort((x, y) => y[1] - x[1]).map(([n, c]) => `${n} ${c}`).join(', ')
  console.log(`profile: ${prof.sampleCount} samples (${acc > 0 ? 'work done' : ''}); leaf in musl's libc: ${muslLeaves} (${named}); flame graph ${out}: ${svg.length} bytes`)
  assert.ok(prof.sampleCount >= 250, `${prof.sampleCount} samples in 300 ms of CPU at 999 Hz`)
  assert.ok(svg.startsWith('<?xml') && svg.includes('<svg'), 'an SVG')
  assert.ok(muslLeaves >= prof.sampleCount / 4, `${muslLeaves} of ${prof.sampleCount} samples end in musl's libm (expected >= 1/4)`)
  assert.ok(leaves.has('pow') && svg.includes('>pow'), "musl's pow named in the profile and the flame graph")
  ok('profile: cpu-clock, symbolized by the musl symbolizer, flame graph written')

  const report = p.doctor()
  console.log(p.formatDoctor(report))
  const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]))
  assert.strictEqual(byId.syscall?.status, 'ok', JSON.stringify(byId.syscall))
  assert.match(byId.variant.detail, /linux-x64-musl\.node/)
  ok('doctor(): perf_event_open works, the musl binary loaded')
  clock.close()
}

async function arm64() {
  let code
  try {
    new p.Counter('task-clock').close()
    code = 'opened'
  } catch (e) {
    code = e.code
    console.log(`Counter('task-clock') under qemu-user: ${e.code}: ${e.message.split('\n')[0]}`)
  }
  assert.strictEqual(code, 'ENOSYS', `qemu-user has no perf_event_open: expected ENOSYS, got ${code}`)
  ok('the arm64 musl addon loads and reports ENOSYS (qemu-user) with its code')
  const s = await symbolizerChecks()
  const svg = await s.flameGraph('main;hot 3\nmain;cold 1\n', { title: 'arm64 musl' })
  assert.ok(svg.includes('<svg') && svg.includes('hot'))
  ok(`musl symbolizer on arm64 writes a flame graph (${svg.length} bytes)`)
}

;(cpu === 'x64' ? x64() : arm64()).then(
  () => console.log(`${runtime} ${cpu} musl: all checks passed`),
  (e) => {
    console.error(`FAIL: ${e.stack || e}`)
    process.exit(1)
  },
)
