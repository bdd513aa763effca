/**
 * No silent loss: the default ring holds a synchronous burst of page faults, and an unprivileged
 * clock profile states the CPU time its samples could not see (task-clock of the same threads).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { profile } from '../dist/index.js'
import { freshUser, testUnless, userDist, withSystemLock } from './helpers.ts'

const root = process.getuid?.() === 0

testUnless(root ? undefined : 'needs root: the default 8 MiB ring is above the unprivileged memlock budget')('page-faults on 64 MiB of fresh pages: the default ring loses nothing', async (t) => {
  const touch = (bytes: number) => {
    const b = Buffer.allocUnsafeSlow(bytes)
    for (let i = 0; i < b.length; i += 4096) b[i] = 1
    return b.length
  }
  for (let i = 0; i < 200; i++) touch(1 << 16)
  const p = await profile(() => touch(64 << 20), { event: 'page-faults' })
  t.log(`${p.sampleCount} samples, ${p.totalWeight} page faults, lost ${p.lost.count} (${p.lost.source})`)
  t.is(p.lost.count, 0)
  t.true(p.sampleCount >= 16384, `${p.sampleCount} samples for 16 384 fresh pages`)
})

const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'))
const unprivilegedReason = !root ? 'needs root to run a child as a fresh user' : paranoid < 2 ? `needs perf_event_paranoid >= 2 (it is ${paranoid})` : undefined

testUnless(unprivilegedReason, { serial: true })('unprivileged (paranoid 2, a fresh user): the profile states the kernel time it could not see, in ms and %', (t) =>
  withSystemLock(() => {
    const user = freshUser('pe-loss')
    t.teardown(() => user.remove())
    // Half user-space work, half system calls (reads of /proc), measured by the thread's own CPU clock.
    const code = `const pe = require(${JSON.stringify(userDist())})
const fs = require('node:fs')
const cpu = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
const work = () => { let x = 0; for (let k = 0; k < 4000; k++) { x += fs.readFileSync('/proc/self/status').length; for (let i = 0; i < 2e4; i++) x += i } return x }
;(async () => {
  const c0 = cpu()
  const p = await pe.profile(work)
  const c1 = cpu()
  console.log(JSON.stringify({ warnings: p.warnings, weight: p.totalWeight, cpuMs: (c1 - c0) / 1e6 }))
})()`
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', uid: user.uid, gid: user.gid, cwd: tmpdir() })
    t.is(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    const w: string | undefined = out.warnings.find((x: string) => x.startsWith('Kernel time is not in this profile'))
    t.truthy(w, JSON.stringify(out.warnings))
    t.log(w, `(schedstat around profile(): ${out.cpuMs.toFixed(1)} ms)`)
    const m = /cover ([\d.]+) ms of the ([\d.]+) ms of CPU time .*; ([\d.]+) ms \(([\d.]+) %\)/.exec(w!)
    t.truthy(m)
    const [seen, total, unseen, pct] = m!.slice(1).map(Number)
    // The task-clock total is the thread's CPU time (user + kernel) during the profile: within the schedstat span around it.
    t.true(total <= out.cpuMs * 1.02 + 1 && total >= out.cpuMs * 0.8, `task-clock ${total} ms vs schedstat ${out.cpuMs} ms`)
    t.true(Math.abs(seen - out.weight / 1e6) < 0.2, `${seen} ms vs weight ${out.weight} ns`)
    t.true(Math.abs(seen + unseen - total) < 0.2)
    t.true(unseen > 0.1 * total, `${unseen} ms unseen of ${total} ms`)
    t.true(Math.abs(pct - (100 * unseen) / total) < 0.1)
  }),
)
