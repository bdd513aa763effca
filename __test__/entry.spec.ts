// The package's entry loads only what counting needs; profiles, off-CPU profiles, the event list,
// the doctor, whole-process counters and the sampler load when their name is first read, from
// CommonJS and from ESM alike.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

const DIST = join(import.meta.dirname, '..', 'dist')
const ON_DEMAND = ['profile', 'profileCommand', 'Profiler', 'Profile', 'perfMapEnabled', 'OffCpuProfiler', 'OffCpuProfile', 'profileWall', 'listEvents', 'doctor', 'formatDoctor', 'ProcessCounter', 'Sampler', 'SampleBatch']

const node = (code: string, ...flags: string[]) => execFileSync(process.execPath, [...flags, '-e', code], { encoding: 'utf8' }).trim()

test('require and a first counter read load no profile, discovery, CLI, process-counter or sampler module', (t) => {
  const loaded: string[] = JSON.parse(
    node(`const { Counter } = require(${JSON.stringify(join(DIST, 'index.js'))}); const c = new Counter('task-clock'); c.enable(); c.stat(); c.close()
console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.startsWith(${JSON.stringify(DIST)})).map((k) => k.slice(${DIST.length + 1}))))`),
  )
  t.log(`${loaded.length} modules: ${loaded.join(', ')}`)
  const heavy = loaded.filter((m) => /^(profile|discovery|cli)\/|^handles\/(process|sampler|batch)\.js$/.test(m))
  t.deepEqual(heavy, [])
})

test('every name loaded on first use is an enumerable export, from CommonJS and as an ESM named import', (t) => {
  const cjs = JSON.parse(node(`const pe = require(${JSON.stringify(join(DIST, 'index.js'))}); console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(ON_DEMAND)}.map((n) => [n, Object.keys(pe).includes(n) && typeof pe[n]]))))`))
  for (const n of ON_DEMAND) t.is(cjs[n], 'function', `require(...).${n}`)
  const esm = JSON.parse(node(`import { ${ON_DEMAND.join(', ')} } from ${JSON.stringify(join(DIST, 'index.js'))}; console.log(JSON.stringify([${ON_DEMAND.join(', ')}].map((v) => typeof v)))`, '--input-type=module'))
  t.deepEqual(esm, ON_DEMAND.map(() => 'function'))
  // The same class whichever way it is reached: instanceof holds across the lazy export and its module.
  t.is(node(`const pe = require(${JSON.stringify(join(DIST, 'index.js'))}); console.log(pe.Profiler === require(${JSON.stringify(join(DIST, 'profile', 'profiler.js'))}).Profiler)`), 'true')
})
