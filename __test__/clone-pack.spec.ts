// Issue 21: a clone that profiles. README "From a clone": after `npm run build` (which builds the
// symbolizer too), `npm pack` carries both binaries; the tarball installed into an empty project
// runs `npx perf-event-open record -o app.svg -- node app.js` with no environment variable.
// Where the symbolizer is missing, the hint names the fixes that work in that state, and doctor
// reports it.
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO } from './helpers.ts'

const work = mkdtempSync(join(tmpdir(), 'pe-clone-pack-'))
test.after.always(() => rmSync(work, { recursive: true, force: true }))

/** An environment without any of the package's variables (as a new shell has). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('PERF_EVENT_OPEN_') || k === 'NAPI_RS_NATIVE_LIBRARY_PATH' || k === 'NODE_OPTIONS') delete env[k]
  return env
}

const platform = (() => {
  const files = readdirSync(join(REPO, 'symbolize')).filter((f) => /^perf-event-open-symbolize\..+\.node$/.test(f))
  return files.length ? files[0].replace(/^perf-event-open-symbolize\.|\.node$/g, '') : undefined
})()

let app: string | undefined
/** npm pack of this checkout (built: npm run build), installed into an empty project, once. */
function installed(): string {
  if (app) return app
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' }).trim().split('\n').pop()!
  const dir = join(work, 'app')
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, tgz)], { cwd: dir, stdio: 'ignore', env: cleanEnv() })
  return (app = dir)
}

const hasSymbolizer = platform !== undefined
const withBinary = hasSymbolizer ? test.serial : test.skip
if (!hasSymbolizer) test.skip('(needs symbolize/perf-event-open-symbolize.<platform>.node: npm run build)', () => {})

withBinary('npm pack of a built clone carries the symbolizer; installed elsewhere, npx perf-event-open record -o app.svg -- node app.js works with no environment variable', (t) => {
  const dir = installed()
  const list = execFileSync('tar', ['-tzf', readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => join(work, f))[0]], { encoding: 'utf8' })
  t.regex(list, new RegExp(`^package/symbolize/perf-event-open-symbolize\\.${platform}\\.node$`, 'm'))
  t.regex(list, new RegExp(`^package/perf-event-open\\.${platform}\\.node$`, 'm'))
  writeFileSync(join(dir, 'app.js'), 'function hot() { let x = 0; for (let i = 0; i < 2e7; i++) x += i % 7; return x }\nfor (let i = 0; i < 5; i++) hot()\nconsole.log("app done")\n')
  const r = spawnSync('npx', ['--no-install', 'perf-event-open', 'record', '-o', 'app.svg', '--', 'node', 'app.js'], { cwd: dir, encoding: 'utf8', env: cleanEnv(), timeout: 180_000 })
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout.trim(), 'app done')
  const svg = readFileSync(join(dir, 'app.svg'), 'utf8')
  t.regex(svg, /<svg/)
  t.regex(svg, /hot/, 'the JS function is named in the flame graph')
  t.regex(r.stderr, /Wrote .*app\.svg \(flame graph SVG\): \d+ samples/)
  // doctor of the installed copy reports the symbolizer it found.
  const doc = JSON.parse(spawnSync('npx', ['--no-install', 'perf-event-open', 'doctor', '--json'], { cwd: dir, encoding: 'utf8', env: cleanEnv() }).stdout) as { checks: { id: string; status: string; detail: string }[] }
  const sym = doc.checks.find((c) => c.id === 'symbolizer')!
  t.is(sym.status, 'ok')
  t.regex(sym.detail, /node_modules\/perf-event-open\/symbolize\/perf-event-open-symbolize\./)
})

withBinary('an installed copy without any symbolizer: record stops before running the command; the hint names the registry and the clone fixes, doctor warns', (t) => {
  const dir = installed()
  const copy = join(work, 'nosym')
  cpSync(dir, copy, { recursive: true, verbatimSymlinks: true })
  rmSync(join(copy, 'node_modules', 'perf-event-open', 'symbolize'), { recursive: true, force: true })
  const marker = join(copy, 'ran')
  const r = spawnSync('npx', ['--no-install', 'perf-event-open', 'record', '-o', 'x.svg', '--', 'sh', '-c', `touch ${marker}`], { cwd: copy, encoding: 'utf8', env: cleanEnv() })
  t.is(r.status, 1)
  t.false(existsSync(marker))
  t.regex(r.stderr, /no symbolizer beside it[^\n]*Installed from the npm registry: npm install perf-event-open-symbolize[^\n]*Installed from a tarball packed in a clone: run npm run build in the clone/)
  t.notRegex(r.stderr, /npm has a bug/)
  const doc = JSON.parse(spawnSync('npx', ['--no-install', 'perf-event-open', 'doctor', '--json'], { cwd: copy, encoding: 'utf8', env: cleanEnv() }).stdout) as { checks: { id: string; status: string; fix?: string }[] }
  const sym = doc.checks.find((c) => c.id === 'symbolizer')!
  t.is(sym.status, 'warn')
  t.regex(sym.fix!, /npm install perf-event-open-symbolize/)
})

test('a clone without a built symbolizer: the hint says npm run build, and napi\'s "npm has a bug" text is not shown', (t) => {
  // The shape of a clone after npm ci + build:native + build:ts only: dist/, symbolize/ sources and its loader, no symbolizer binary.
  const clone = join(work, 'clone')
  mkdirSync(join(clone, 'symbolize'), { recursive: true })
  for (const f of ['package.json', 'variants.json', 'dist']) cpSync(join(REPO, f), join(clone, f), { recursive: true })
  for (const f of readdirSync(REPO)) if (/^perf-event-open\..+\.node$/.test(f)) cpSync(join(REPO, f), join(clone, f))
  for (const f of ['index.js', 'package.json', 'Cargo.toml']) cpSync(join(REPO, 'symbolize', f), join(clone, 'symbolize', f))
  const r = spawnSync(process.execPath, ['-e', `require('./dist/index.js').profile(() => 1).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })))`], { cwd: clone, encoding: 'utf8', env: cleanEnv() })
  const e = JSON.parse(r.stdout)
  t.is(e.code, 'ERR_SYMBOLIZER_MISSING')
  t.regex(e.hint, /This is a clone of the repository without a built symbolizer: run npm run build/)
  t.notRegex(e.hint, /npm install perf-event-open-symbolize/)
  t.notRegex(e.message, /npm has a bug/)
  t.regex(e.message, /symbolize\/index\.js: no binary for this platform beside it and no platform package installed/)
})

withBinary("the packed package's top-level index.js ('perf-event-open/binding') is the binding the facade loaded: the same functions of the same .node, required or imported by name", (t) => {
  const dir = installed()
  t.true(existsSync(join(dir, 'node_modules', 'perf-event-open', 'index.js')))
  const script = [
    "const binding = require('perf-event-open/binding')",
    "const pe = require('perf-event-open')",
    'const info = pe.buildInfo()',
    "const native = require(info.path)",
    "import('perf-event-open/binding').then((m) => console.log(JSON.stringify({ same: Object.keys(binding).every((k) => binding[k] === native[k]), esm: m.NativeCounter === native.NativeCounter, path: info.path, names: Object.keys(binding).length, fns: typeof binding.NativeCounter })))",
  ].join('\n')
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', env: cleanEnv() }))
  t.true(out.same, 'each export of index.js is the function of require(buildInfo().path)')
  t.true(out.names >= 10)
  t.true(out.esm)
  t.is(out.fns, 'function')
  t.true(out.path.startsWith(join(dir, 'node_modules', 'perf-event-open')), out.path)
})
