// Electron safety, checked on the built binary: Electron >= 21 refuses external ArrayBuffers,
// loads N-API addons without rebuilds only if they use nothing but N-API, and runs
// addons in renderer/worker environments that come and go.
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { buildInfo, Counter } from '../dist/index.js'

const undefinedSymbols = () =>
  execFileSync('nm', ['-D', '--undefined-only', buildInfo().path], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop()!)
    .filter(Boolean)

test('the .node imports only napi_* and libc/libgcc symbols', (t) => {
  const syms = undefinedSymbols()
  t.true(syms.some((s) => s.startsWith('napi_')))
  const weakLinkerSymbols = ['_ITM_deregisterTMCloneTable', '_ITM_registerTMCloneTable', '__gmon_start__']
  // glibc symbols are versioned (@GLIBC_x.y, libgcc's @GCC_x.y); musl's are not, so there only the
  // absence of runtime internals below is checked.
  if (!buildInfo().target.endsWith('musl')) {
    const other = syms.filter((s) => !s.startsWith('napi_') && !/@(GLIBC|GCC)_[\d.]+$/.test(s) && !weakLinkerSymbols.includes(s))
    t.deepEqual(other, [], `non-N-API imports: ${other.join(', ')}`)
  }
  t.false(syms.some((s) => /^(uv_|_ZN2v8|_ZN4node)/.test(s)), 'no libuv, V8 or node internals')
})

test('the .node never creates external buffers (refused by Electron >= 21)', (t) => {
  const external = undefinedSymbols().filter((s) => /napi_create_external_(array)?buffer/.test(s))
  t.deepEqual(external, [])
})

// Issue 21: the symbolizer addon is loaded into the same process (profile(), Profiler): the same rules.
// This machine's build (npm run build:arm64 leaves the arm64 one beside it, linked against glibc 2.17 by another toolchain).
const symbolizerBinary = () => readdirSync(join(import.meta.dirname, '..', 'symbolize')).find((f) => f.startsWith(`perf-event-open-symbolize.linux-${process.arch}-`) && f.endsWith('.node'))
const symbolizerTest = symbolizerBinary() ? test : test.skip
symbolizerTest('the symbolizer .node imports only napi_* and libc symbols and never creates external buffers', (t) => {
  const path = join(import.meta.dirname, '..', 'symbolize', symbolizerBinary()!)
  const syms = execFileSync('nm', ['-D', '--undefined-only', path], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop()!)
    .filter(Boolean)
  t.true(syms.some((s) => s.startsWith('napi_')))
  t.deepEqual(syms.filter((s) => /napi_create_external_(array)?buffer/.test(s)), [])
  t.false(syms.some((s) => /^(uv_|_ZN2v8|_ZN4node)/.test(s)), 'no libuv, V8 or node internals')
  if (!path.includes('musl')) {
    const other = syms.filter((s) => !s.startsWith('napi_') && !/@(GLIBC|GCC)_[\d.]+$/.test(s) && !['_ITM_deregisterTMCloneTable', '_ITM_registerTMCloneTable', '__gmon_start__'].includes(s))
    t.deepEqual(other, [], `non-N-API imports: ${other.join(', ')}`)
  }
})

const workerCode = (mode: 'count' | 'hold') => `
const { parentPort } = require('node:worker_threads')
const { Counter } = require(${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)})
const c = new Counter('task-clock')
c.enable()
let x = 0; for (let i = 0; i < 2e6; i++) x += i
c.disable()
parentPort.postMessage(String(c.stat().count))
${mode === 'count' ? 'c.close()' : 'setInterval(() => {}, 1000)'}
`

test('load, use and close in workers; a worker terminated with an open counter does not break the next one', async (t) => {
  const runWorker = async (mode: 'count' | 'hold') => {
    const w = new Worker(workerCode(mode), { eval: true })
    // Listen for 'exit' from the start: a worker that closes its counter may exit before
    // the 'message' continuation runs.
    const exited = new Promise((res) => w.once('exit', res))
    const count = await new Promise<string>((res, rej) => {
      w.once('message', res)
      w.once('error', rej)
    })
    if (mode === 'hold') await w.terminate()
    await exited
    return BigInt(count)
  }
  t.true((await runWorker('hold')) > 0n)
  t.true((await runWorker('count')) > 0n)
  t.true((await runWorker('hold')) > 0n)
  using c = new Counter('task-clock')
  t.true(c.measure(() => 1).stat.count >= 0n)
})

// Electron itself cannot be installed here: its properties are checked from Node with
// process.versions.electron set, which is all lib/loading/electron.ts reads.
const ELECTRON = "Object.defineProperty(process.versions, 'electron', { value: '33.0.0', enumerable: true });"
const DIST = join(import.meta.dirname, '..', 'dist')

test('Electron: profileCommand(process.execPath, …) runs the Electron binary as Node (ELECTRON_RUN_AS_NODE=1); an explicit env value is kept; not under Node', (t) => {
  const run = (electron: boolean, env: string) => {
    const code = `${electron ? ELECTRON : ''} const { profileCommand } = require(${JSON.stringify(join(DIST, 'index.js'))});
      profileCommand(process.execPath, ['-e', 'process.stdout.write(String(process.env.ELECTRON_RUN_AS_NODE))'], { period: 1000000, ${env} }).then(() => {}, (e) => { console.error(e); process.exit(1) })`
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined } })
    t.is(r.status, 0, r.stderr)
    return r.stdout
  }
  t.is(run(true, ''), '1')
  t.is(run(true, "env: { ...process.env, ELECTRON_RUN_AS_NODE: '' }"), '')
  t.is(run(false, ''), 'undefined')
})

test('Electron: the perf-map hint says --js-flags=--perf-basic-prof (main), appendSwitch (renderers) and execArgv (utility processes); --js-flags counts as enabled', (t) => {
  const code = `${ELECTRON} const pe = require(${JSON.stringify(join(DIST, 'index.js'))}); const el = require(${JSON.stringify(join(DIST, 'loading', 'electron.js'))});
    process.argv.push('--js-flags=--perf-basic-prof --foo');
    const on = pe.perfMapEnabled(); process.argv.pop();
    pe.profile(() => { let x = 0; for (let i = 0; i < 1e6; i++) x += i; return x }, { period: 100000 }).then((p) => console.log(JSON.stringify({ on, off: pe.perfMapEnabled(), warnings: p.warnings, flags: [el.electronPerfMapFlags(['electron', '--js-flags', '--perf-basic-prof']), el.electronPerfMapFlags(['electron', '--js-flags=--max-old-space-size=100'])] })))`
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.true(out.on)
  t.false(out.off)
  t.deepEqual(out.flags, [true, false])
  const hint = out.warnings.find((w: string) => /JS functions are unnamed/.test(w))
  t.regex(hint, /--js-flags=--perf-basic-prof/)
  t.regex(hint, /app\.commandLine\.appendSwitch\('js-flags', '--perf-basic-prof'\)/)
  t.regex(hint, /utilityProcess\.fork\(modulePath, args, \{ execArgv: \['--perf-basic-prof'\] \}\)/)
  t.notRegex(hint, /node --perf-basic-prof/)
})

test('a bundled copy that cannot find its files throws ERR_NATIVE_LOAD naming the README Bundlers section', (t) => {
  // What esbuild without --external does: the package's code lands in another directory, without variants.json.
  const dir = mkdtempSync(join(tmpdir(), 'pe-bundled-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(DIST, join(dir, 'out'), { recursive: true })
  const r = spawnSync(process.execPath, ['-e', `try { require(${JSON.stringify(join(dir, 'out', 'index.js'))}) } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, hint: e.hint })) }`], { encoding: 'utf8' })
  const e = JSON.parse(r.stdout)
  t.is(e.code, 'ERR_NATIVE_LOAD')
  t.regex(e.message, /could not find its variants\.json[^\n]*looks bundled[^\n]*README "Bundlers"/)
  t.regex(e.hint, /external/)
})
