// lib/system/: the one home of the kernel's facts (procfs, sysfs, tracefs reads, privilege, limits,
// threads). Values are checked against what the kernel and standard tools say, and Deno's refusal
// against a real Deno run with the README's minimum permissions.
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { paranoidLevel, onlineCpus, pmuNames, PMU_ROOT, perfCgroupMounts } from '../dist/system/kernel.js'
import { CAP, euid, hasCapability, isPerfPrivileged, processOwner, effectiveUid } from '../dist/system/privilege.js'
import { fdRoom, softLimit } from '../dist/system/limits.js'
import { threadLabel, threadName } from '../dist/system/threads.js'
import { readText } from '../dist/system/files.js'
import { REPO, freshUser, notRoot, testUnless, userDist, withSystemLock } from './helpers.ts'

test('paranoid level, PMUs and CPUs online: what the kernel and getconf say', (t) => {
  // Other test files change the level for a moment: read both under their lock.
  withSystemLock(() => t.is(paranoidLevel(), Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'))))
  t.deepEqual(pmuNames().sort(), readdirSync(PMU_ROOT).sort())
  t.true(pmuNames().includes('software'))
  t.is(onlineCpus().length, Number(execFileSync('getconf', ['_NPROCESSORS_ONLN'], { encoding: 'utf8' })))
  const mounts = execFileSync('findmnt', ['-n', '-o', 'TARGET', '-t', 'cgroup2'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  for (const m of mounts) t.true(perfCgroupMounts().includes(m), m)
  t.is(readText('/no/such/file'), undefined)
})

test('limits: the soft RLIMIT_NOFILE and RLIMIT_MEMLOCK a shell reports (ulimit)', (t) => {
  const shell = (flag: string) => execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim()
  const nofile = shell('-n')
  t.is(softLimit('Max open files'), nofile === 'unlimited' ? Infinity : Number(nofile))
  const memlockKiB = shell('-l')
  t.is(softLimit('Max locked memory'), memlockKiB === 'unlimited' ? Infinity : Number(memlockKiB) * 1024)
  const open = readdirSync('/proc/self/fd').length
  t.true(Math.abs(fdRoom() - (Number(nofile) - open)) <= 2, `room ${fdRoom()} with ${open} open of ${nofile}`)
})

test('threads: names from comm; an ended thread is labelled by its process, a gone process by the tid', (t) => {
  const comm = readFileSync(`/proc/${process.pid}/comm`, 'utf8').replace(/\n$/, '')
  t.is(threadName(process.pid, process.pid), comm)
  t.is(threadLabel(process.pid, process.pid), comm)
  // A tid that is not (or no longer) a thread of this process: the process's name.
  t.is(threadLabel(process.pid, 0x7ffffffe), comm)
  const gone = spawnSync('true').pid!
  t.is(threadLabel(gone, gone), `thread ${gone}`)
  // A gone process whose name is known otherwise (its comm record in a profile): that name.
  t.is(threadLabel(gone, gone + 1, 'app'), 'app')
  t.is(threadName(gone, gone), undefined)
})

testUnless(notRoot('compares root with a fresh regular user'))('privilege: root has every capability; a fresh user has none and is not privileged for perf', (t) => {
  t.is(euid(), 0)
  t.true(hasCapability(CAP.PERFMON) && hasCapability(CAP.SYS_ADMIN))
  t.true(isPerfPrivileged())
  t.is(processOwner(process.pid), 0)
  t.is(effectiveUid(process.pid), 0)
  const user = freshUser('pesys')
  try {
    const script = `const p = require(${JSON.stringify(userDist('system/privilege.js'))}); console.log(JSON.stringify({ euid: p.euid(), perfmon: p.hasCapability(p.CAP.PERFMON), privileged: p.isPerfPrivileged(), owner: p.processOwner(process.pid), eff: p.effectiveUid(process.pid) }))`
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { uid: user.uid, gid: user.gid, encoding: 'utf8' }))
    t.deepEqual(out, { euid: user.uid, perfmon: false, privileged: false, owner: user.uid, eff: user.uid })
  } finally {
    user.remove()
  }
})

/** Deno from npm's cache (npx --offline), or why not. */
function deno(): { cmd: string[]; reason: string } {
  const probe = spawnSync('npx', ['--offline', '-y', 'deno@2.9.6', '--version'], { encoding: 'utf8', timeout: 60_000 })
  return probe.status === 0 ? { cmd: ['npx', '--offline', '-y', 'deno@2.9.6'], reason: '' } : { cmd: [], reason: 'Deno 2.9.6 is not in the npm cache (npx --offline deno@2.9.6)' }
}
const DENO = deno()

testUnless(DENO.reason)('Deno without -A: every /proc and /sys fact fails as ERR_DENO_PERMISSION with the flag to add; counting still works', (t) => {
  // The permissions the README's Deno section gives (scripts/smoke/runtimes.sh runs the same).
  const flags = ['--allow-read', '--allow-sys=osRelease', '--allow-env=PERF_EVENT_OPEN_BINARY,PERF_EVENT_OPEN_VARIANT', '--allow-ffi']
  const [cmd, ...args] = DENO.cmd
  const out = execFileSync(cmd, [...args, 'run', ...flags, join(REPO, '__test__', 'fixtures', 'deno-system.cjs'), REPO], { encoding: 'utf8' })
  const r = JSON.parse(out.trim().split('\n').at(-1)!)
  t.true(r.counted)
  for (const key of ['pmuEvent', 'threads', 'threadName', 'doctor']) {
    t.false(r[key].ok, key)
    t.is(r[key].code, 'ERR_DENO_PERMISSION', key)
    t.regex(r[key].hint, /^Deno denied .*: add (-A|--allow-sys)/, key)
  }
  t.regex(r.pmuEvent.hint, /devices\/msr.*add -A/)
  t.regex(r.doctor.hint, /sys access to the uid: add --allow-sys/)
  // A kernel refusal keeps its errno name; its hint says which permission the full hint needs.
  t.is(r.hardware.name, 'PerfEventError')
  t.regex(r.hardware.hint, /Deno denied read access to \/sys and \/proc, which the full hint reads: add -A/)
})

test('no module of lib/ outside lib/system/ reads /proc or /sys itself', (t) => {
  // Files still reading on their own, each with why; remove an entry when its file moves to lib/system/.
  const pending: Record<string, string> = {
    'loading/libc.ts': 'libc detection at load time must fall back silently (process.report) where Deno refuses /proc/self/maps',
  }
  const lib = join(REPO, 'lib')
  const readers: string[] = []
  for (const f of readdirSync(lib, { recursive: true }) as string[]) {
    if (!f.endsWith('.ts') || f.startsWith('system/')) continue
    const src = readFileSync(join(lib, f), 'utf8')
    const fsReads = /import \{[^}]*\b(readFileSync|readdirSync|existsSync|statSync|lstatSync|readlinkSync)\b[^}]*\} from 'node:fs'/.test(src)
    if (fsReads && /[`'](\/proc|\/sys)\//.test(src)) readers.push(f)
  }
  t.deepEqual(readers.filter((f) => !(f in pending)).sort(), [])
  for (const f of Object.keys(pending)) if (!readers.includes(f)) t.log(`${f} no longer reads /proc or /sys: remove it from the pending list`)
})
