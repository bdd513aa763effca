// The symbolizer addon is loaded by the package's own rules, whatever the environment says to
// other napi-rs addons.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')

test('NAPI_RS_NATIVE_LIBRARY_PATH set for another addon does not replace the symbolizer, and stays set', (t) => {
  const code = `const pe = require(${JSON.stringify(DIST)})
pe.profile(() => { let x = 0; for (let i = 0; i < 2e7; i++) x += i; return x }).then((p) => {
  console.log(JSON.stringify({ samples: p.sampleCount, named: p.frames.filter((f) => f.name && f.kind !== 'unknown').length, env: process.env.NAPI_RS_NATIVE_LIBRARY_PATH }))
}, (e) => { console.log(JSON.stringify({ error: e.code + ' ' + e.message })) })`
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/other-addon.node' } })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.is(out.error, undefined)
  t.true(out.samples > 0)
  t.true(out.named > 0, 'native frames are named by the real symbolizer')
  t.is(out.env, '/nonexistent/other-addon.node')
})
