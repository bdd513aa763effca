// A second real kernel for the x64 build: Debian 12's amd64 kernel (6.1) under QEMU (TCG, no PMU,
// -icount: the guest's clock follows its instructions, so cpu-clock is exact), booted by
// scripts/emulated/run.sh. /pkg has the default `latest` build and the linux-6.1 variant
// (the loader must pick linux-6.1 here); /pkg-latest has only the default install. Runs as root and as
// an unprivileged user at perf_event_paranoid 2.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { release } from 'node:os'
import { Counter, PerfEventError, buildInfo, doctor, profile } from 'perf-event-open'
import { AS_USER, freshPages, work } from './guest'

const log = (s: string) => console.log(`# ${s}`)
/** Runs `code` in a fresh Node with the package at `root` loaded as `pe`; prints JSON. */
const child = (root: string, code: string): any =>
  JSON.parse(execFileSync(process.execPath, ['-e', `const pe = require(${JSON.stringify(root)}); ${code}`], { encoding: 'utf8' }))

test('the kernel is 6.1 and the loader picks the linux-6.1 variant when it is installed', () => {
  log(`uname -r: ${release()}; loaded: ${JSON.stringify(buildInfo())}`)
  assert.match(release(), /^6\.1\./)
  assert.equal(buildInfo().variant, 'linux-6.1')
  assert.match(buildInfo().path, /perf-event-open\.linux-x64-gnu-linux-6\.1\.node$/)
  assert.equal(buildInfo().fittingVariant, undefined)
})

test('with only the default install the loader takes latest and names the variant that fits', () => {
  const info = child('/pkg-latest', 'console.log(JSON.stringify(pe.buildInfo()))')
  log(`default install: ${JSON.stringify(info)}`)
  assert.equal(info.variant, 'latest')
  assert.match(info.fittingVariant, /npm install perf-event-open-linux-x64-gnu-linux-6\.1@/)
})

test('software events count on 6.1: task-clock, page-faults, cpu-clock sampling', () => {
  const suffix = AS_USER ? ':u' : ''
  using clock = new Counter(`task-clock${suffix}`)
  using faults = new Counter(`page-faults${suffix}`)
  const touch = freshPages(64)
  clock.enable()
  faults.enable()
  touch()
  work(2_000_000)
  faults.disable()
  clock.disable()
  log(`task-clock${suffix} ${clock.stat().count} ns, page-faults${suffix} ${faults.stat().count}`)
  assert.ok(clock.stat().count > 1_000_000n)
  assert.ok(faults.stat().count >= 64n && faults.stat().count < 200n, `${faults.stat().count} faults`)
  using s = new Counter('cpu-clock:u', undefined, { sampleOn: { count: 1_000_000n }, sampleFormat: { codeAddr: true } })
  const sampler = s.sampler(6)
  s.enable()
  work(10_000_000)
  s.disable()
  const samples = sampler.drain().filter((r) => r.type === 'sample')
  sampler.close()
  log(`cpu-clock:u ${s.stat().count} ns: ${samples.length} samples every 1 ms`)
  // The guest runs under -icount: its clock advances with the instructions executed, never with the
  // host's load, so one sample per period arrives (without icount, late timers merged periods: 44 %).
  const periods = Number(s.stat().count / 1_000_000n)
  assert.ok(Math.abs(samples.length - periods) <= 1, `${samples.length} samples in ${periods} periods`)
})

test('profile() of a 3:1 workload by cpu-clock on 6.1: 3:1 within 5 %', async () => {
  function hotA() {
    return work(300_000)
  }
  function hotB() {
    return work(100_000)
  }
  const p = await profile(() => {
    let s = 0
    for (let i = 0; i < 40; i++) s += hotA() + hotB()
    return s
  }, { period: 100_000 })
  const rows = p.top(200, { by: 'total' }).rows
  const total = (name: string) => rows.filter((r) => r.frame.kind === 'js' && r.frame.name === name).reduce((a, r) => a + r.total, 0)
  const ratio = total('hotA') / total('hotB')
  log(p.top(8).table.replace(/\n/g, '\n# '))
  log(`cpu-clock profile: ${p.sampleCount} samples, hotA:hotB ${ratio.toFixed(2)}`)
  assert.ok(p.sampleCount > 50)
  assert.ok(Math.abs(ratio - 3) <= 0.15, `ratio ${ratio}`)
})

// An option newer than the running kernel: the error names the option and the Linux version it
// needs, whichever build is loaded (linux-6.1: refused before the syscall; latest: the kernel's
// EINVAL explained).
const NEWER = [
  { what: 'pauseAux (Linux 6.13)', options: { pauseAux: true }, version: '6.13' },
  { what: 'sampleFormat.callChain.deferUser (Linux 6.19)', options: { sampleFormat: { callChain: { deferUser: true } } }, version: '6.19' },
] as const

for (const { what, options, version } of NEWER) {
  test(`${what}: the linux-6.1 build refuses it naming the version`, () => {
    assert.throws(() => new Counter('task-clock:u', undefined, options as never), (e: unknown) => {
      assert.ok(e instanceof PerfEventError, String(e))
      log(`linux-6.1 build: ${e.code}: ${e.message} | hint: ${e.hint}`)
      assert.equal(e.code, 'ERR_UNSUPPORTED_BY_BUILD')
      assert.match(`${e.message} ${e.hint}`, new RegExp(`needs Linux ${version.replace('.', '\\.')}`))
      return true
    })
  })
  test(`${what}: the latest build on 6.1 gets the kernel's refusal with the version it needs`, () => {
    const r = child('/pkg-latest', `try { new pe.Counter('task-clock:u', undefined, ${JSON.stringify(options)}); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })) }`)
    log(`latest build: ${r.code}: ${r.message} | hint: ${r.hint}`)
    assert.ok(r.code === 'EINVAL' || r.code === 'E2BIG', r.code)
    assert.match(`${r.message} ${r.hint}`, new RegExp(`needs Linux ${version.replace('.', '\\.')}`))
    assert.match(r.hint, /6\.1\./, 'names the running kernel')
  })
}

test('doctor() on 6.1 in QEMU: no hardware PMU, QEMU detected, the variant fits', () => {
  const report = doctor()
  const check = (id: string) => report.checks.find((c) => c.id === id)!
  log(`doctor: variant ${check('variant').value}; hardwarePmu ${check('hardwarePmu').value}; environment ${check('environment').value}`)
  assert.match(check('variant').value, /linux-6\.1/)
  assert.equal(check('hardwarePmu').value, 'absent')
  assert.match(check('environment').value, /QEMU/)
})
