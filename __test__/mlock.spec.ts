import test from 'ava'
import { readFileSync } from 'node:fs'
import { execFileSync, spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { Counter } from '../dist/index.js'
import { notRoot, testUnless, userDist } from './helpers.ts'


// One mapping per ring: on Linux 6.18, mmap'ing one perf event twice at the same time leaks the
// user's locked-memory accounting (the pages stay charged after both munmaps, until reboot), so an
// unprivileged user's samplers start failing with EPERM after a few opens.

const perfMappings = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('[perf_event]')).length

test('each open sampler is one mapping of its perf event in /proc/self/maps', (t) => {
  const before = perfMappings()
  const c1 = new Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 } })
  const c2 = new Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 } })
  const s1 = c1.sampler(2)
  t.is(perfMappings(), before + 1)
  const s2 = c2.sampler(3)
  t.is(perfMappings(), before + 2)
  // A second sampler on one counter is still refused (it would be a second mapping).
  t.throws(() => c1.sampler(2), { code: 'ERR_SAMPLER_EXISTS' } as never)
  t.is(perfMappings(), before + 2)
  s1.close()
  t.is(perfMappings(), before + 1)
  // Once closed, the counter can map a new ring.
  const s3 = c1.sampler(4)
  t.is(perfMappings(), before + 2)
  for (const x of [s2, s3, c1, c2]) x.close()
  t.is(perfMappings(), before)
})

testUnless(notRoot('needs root to create a fresh user and run a child as it'))('an unprivileged user with ulimit -l 0 opens and closes a 2^6-page sampler 8 times (no leaked mlock accounting)', (t) => {
  // A NEW user per run: a user whose accounting leaked stays broken until reboot.
  const user = `pe-mlock-${process.pid}-${Date.now() % 1e6}`
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user])
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }))
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }))
  // 2^6 data pages + 1 = 260 KiB each: fits perf_event_mlock_kb (516 KiB per CPU) with no RLIMIT_MEMLOCK.
  const code = `const pe = require(${JSON.stringify(userDist())})
const out = []
for (let i = 0; i < 8; i++) {
  const c = new pe.Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 }, exclude: { kernel: true, hv: true } })
  try { c.sampler(6).close(); out.push('ok') } catch (e) { out.push(e.code || String(e)) } finally { c.close() }
}
console.log(JSON.stringify(out))`
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -l 0 && exec "$0" -e "$1"', process.execPath, code], { encoding: 'utf8', uid, gid, cwd: tmpdir() })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as string[]
  t.deepEqual(out, Array(8).fill('ok'))
  // Only a user whose budget is intact is removed: a leaked one keeps its uid from being reused.
  if (out.every((x) => x === 'ok')) spawnSync('userdel', [user])
  else t.log(`kept user ${user} (uid ${uid}): its locked-memory accounting leaked`)
})
