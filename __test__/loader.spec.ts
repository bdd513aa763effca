import test from 'ava'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { release, tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { buildInfo } from '../dist/index.js'
import { candidateOrder, choose, parseRelease, variantWith, binaryName, packageName, VARIANTS } from '../dist/loading/variants.js'
import { locator, currentTarget, detectLibc, load } from '../dist/loading/loader.js'
import { testUnless } from './helpers.ts'

const names = (vs: { name: string }[]) => vs.map((v) => v.name)

test('parses real-world kernel release strings', (t) => {
  t.deepEqual(parseRelease('6.18.44-fc-v669'), [6, 18])
  t.deepEqual(parseRelease('5.15.153.1-microsoft-standard-WSL2'), [5, 15])
  t.deepEqual(parseRelease('4.18.0-553.el8_10.x86_64'), [4, 18])
  t.deepEqual(parseRelease('6.1.0-28-amd64'), [6, 1])
  t.is(parseRelease('weird'), undefined)
})

test('prefers the highest variant whose kernel fits, then lower, then higher ones', (t) => {
  t.deepEqual(names(candidateOrder('6.18.44-fc-v669')), ['linux-6.12', 'linux-6.8', 'linux-6.1', 'linux-5.15', 'linux-5.10', 'linux-4.18', 'latest'])
  t.deepEqual(names(candidateOrder('5.15.153.1-microsoft-standard-WSL2')).slice(0, 3), ['linux-5.15', 'linux-5.10', 'linux-4.18'])
  t.is(candidateOrder('4.18.0-553.el8_10.x86_64')[0].name, 'linux-4.18')
  t.is(candidateOrder('7.2.0')[0].name, 'latest')
  t.is(candidateOrder('6.11.0')[0].name, 'linux-6.8')
  // Older than every variant: nothing fits, so the lowest comes first.
  t.is(candidateOrder('4.9.0')[0].name, 'linux-4.18')
})

test('falls back to a lower variant when a package is missing, and to a higher one when none fits', (t) => {
  const installed = (...have: string[]) => (v: { name: string }) => (have.includes(v.name) ? `/x/${v.name}.node` : undefined)
  const a = choose('6.8.0-45-generic', installed('linux-6.1', 'latest'))
  t.is(a.choice?.variant.name, 'linux-6.1')
  t.deepEqual(a.tried, ['linux-6.8', 'linux-6.1'])
  const b = choose('6.18.44-fc-v669', installed('latest'))
  t.is(b.choice?.variant.name, 'latest')
  t.is(b.tried.length, VARIANTS.length)
  const none = choose('6.18.44', installed())
  t.is(none.choice, undefined)
  t.regex(none.error!, /no build of any variant/)
})

test('PERF_EVENT_OPEN_VARIANT forces a variant, and names the valid ones when wrong', (t) => {
  const all = (v: { name: string }) => `/x/${v.name}.node`
  t.is(choose('6.18.0', all, 'linux-5.10').choice?.variant.name, 'linux-5.10')
  t.regex(choose('6.18.0', all, 'linux-9.9').error!, /not a variant; variants: linux-4\.18, .*latest/)
  t.regex(choose('6.18.0', () => undefined, 'linux-5.10').error!, /not installed/)
})

test('locator looks next to the package first, then in the npm package', (t) => {
  const target = currentTarget()!
  const dir = mkdtempSync(join(tmpdir(), 'peo-'))
  writeFileSync(join(dir, binaryName(target.platform, 'linux-6.1')), '')
  const tried: string[] = []
  const locate = locator(target, dir, (id) => {
    if (id === `${packageName(target.platform, 'linux-5.10')}/${binaryName(target.platform, 'linux-5.10')}`) return '/pkg/5.10.node'
    throw new Error('not found')
  }, tried)
  const byName = (n: string) => VARIANTS.find((v) => v.name === n)!
  t.is(locate(byName('linux-6.1')), join(dir, binaryName(target.platform, 'linux-6.1')))
  t.is(locate(byName('linux-5.10')), '/pkg/5.10.node')
  t.is(locate(byName('linux-6.8')), undefined)
  t.true(tried.includes(`${packageName(target.platform, 'linux-6.8')} (npm package)`))
})

test('locator finds a variant package in a node_modules folder above the package without asking the resolver', (t) => {
  const target = currentTarget()!
  // <tmp>/node_modules/perf-event-open (the package) and <tmp>/node_modules/<variant package>: a hoisted install.
  const top = mkdtempSync(join(tmpdir(), 'peo-nm-'))
  const root = join(top, 'node_modules', 'perf-event-open')
  const pkgDir = join(top, 'node_modules', packageName(target.platform, 'linux-6.1'))
  mkdirSync(root, { recursive: true })
  mkdirSync(pkgDir, { recursive: true })
  writeFileSync(join(pkgDir, binaryName(target.platform, 'linux-6.1')), '')
  const asked: string[] = []
  const tried: string[] = []
  const locate = locator(target, root, (id) => {
    asked.push(id)
    throw new Error('not found')
  }, tried)
  t.is(locate(VARIANTS.find((v) => v.name === 'linux-6.1')!), join(pkgDir, binaryName(target.platform, 'linux-6.1')))
  t.deepEqual(asked, [])
  // Not on disk: under Node the resolver is still asked (Yarn PnP, Deno's npm cache).
  t.is(locate(VARIANTS.find((v) => v.name === 'linux-6.8')!), undefined)
  t.deepEqual(asked, [`${packageName(target.platform, 'linux-6.8')}/${binaryName(target.platform, 'linux-6.8')}`])
})

test('libc detection reads the libc mapped into this process, not /usr/bin/ldd', (t) => {
  const d = detectLibc()
  // Node from nodejs.org and Debian links glibc; the mapped file is the proof.
  const maps = readFileSync('/proc/self/maps', 'utf8')
  const expected = /\/ld-musl-[^/\n]*$/m.test(maps) ? 'musl' : 'glibc'
  t.is(d.libc, expected)
  t.regex(d.source, /^\/proc\/self\/maps \(\/.*(libc\.so\.6|ld-linux|ld-musl-|libc\.musl-)/)
  t.is(currentTarget()!.libc, d.libc)
})

test('names the oldest variant that has an option', (t) => {
  t.is(variantWith('5.13')?.name, 'linux-5.15')
  t.is(variantWith('6.0')?.name, 'linux-6.1')
  t.is(variantWith('6.19')?.name, 'latest')
  t.is(variantWith('4.1')?.name, 'linux-4.18')
})

test('buildInfo reports what this process loaded', (t) => {
  const info = buildInfo()
  t.is(info.target, currentTarget()!.triple)
  t.true(VARIANTS.some((v) => v.name === info.variant))
  t.true(info.path.includes(`perf-event-open.${currentTarget()!.platform}`) && info.path.endsWith('.node'), info.path)
  t.is(info.kernel, release())
})

const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['-e', "const p=require('./dist/index.js');try{console.log(JSON.stringify(p.buildInfo()))}catch(e){console.log(JSON.stringify({code:e.code,message:e.message}))}"], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })

test('PERF_EVENT_OPEN_VARIANT and PERF_EVENT_OPEN_BINARY in a fresh process', (t) => {
  const missing = JSON.parse(run({ PERF_EVENT_OPEN_VARIANT: 'linux-4.18' }).stdout)
  if (missing.code) {
    t.is(missing.code, 'ERR_NATIVE_LOAD')
    t.regex(missing.message, /linux-4\.18: that variant is not installed/)
  } else t.is(missing.variant, 'linux-4.18') // built by scripts/build/variants.js
  const info = buildInfo()
  const custom = JSON.parse(run({ PERF_EVENT_OPEN_BINARY: info.path }).stdout)
  t.is(custom.variant, 'custom')
  t.is(custom.path, info.path)
})

// A binary chosen by PERF_EVENT_OPEN_VARIANT or PERF_EVENT_OPEN_BINARY is not the default install.
const loaded = buildInfo()
const notDefaultInstall = process.env.PERF_EVENT_OPEN_VARIANT
  ? `PERF_EVENT_OPEN_VARIANT=${process.env.PERF_EVENT_OPEN_VARIANT} chose the binary`
  : loaded.variant === 'custom'
    ? 'a custom binary is loaded'
    : ''

testUnless(notDefaultInstall)('the default install (only the default variant) names the package built for this kernel', (t) => {
  const info = buildInfo()
  const best = candidateOrder(release())[0]
  if (info.variant === best.name) t.is(info.fittingVariant, undefined)
  else t.is(info.fittingVariant, `npm install ${packageName(currentTarget()!.platform, best.name)}@${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}`)
})

test('no binary anywhere: ERR_NATIVE_LOAD lists what was tried and how to install or build one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'peo-empty-'))
  const err = t.throws(() => load(dir, () => { throw new Error('not found') })) as Error & { code: string; hint: string }
  t.is(err.code, 'ERR_NATIVE_LOAD')
  const platform = currentTarget()!.platform
  t.regex(err.message, new RegExp(`${packageName(platform, 'latest')} \\(npm package\\)`))
  t.true(err.hint.includes(`npm install ${packageName(platform, 'latest')}@`), err.hint)
  t.regex(err.hint, /npm ci && npm run build && npm pack/)
})
