// The profiler against hostile files and signals (issue 16): what a local attacker plants at V8's
// perf map path in /tmp (a FIFO, a symlink to /dev/zero or /etc/shadow, a 2 GiB sparse file, another
// user's file, malformed lines, control characters in names), as root and as a regular user, each in
// a child process with a timeout and an RSS bound (a hang or a blow-up fails the test, never the
// suite); record and signals; the smaller argument checks.
import test from 'ava'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Profile as PprofProfile } from 'pprof-format'
import { SaxesParser } from 'saxes'
import { PerfEventError, profile, profileCommand } from '../dist/index.js'
import { claimPerfMap } from '../dist/profile/mapguard.js'
import { PerfMap } from '../dist/profile/perfmap.js'
import { FIXTURES, freshUser, spinCpu, userDist, userFixture, withSystemLock } from './helpers.ts'

const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')
const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'index.js')
const RUNNER = join(FIXTURES, 'hostile-profile.js')
const BOUNDED = join(FIXTURES, 'bounded.js')
const dir = mkdtempSync(join(tmpdir(), 'pe-hostile-'))
chmodSync(dir, 0o777)
const root = process.getuid?.() === 0
/** The bound the issue sets: every hostile case ends under 200 MB of RSS. */
const RSS_LIMIT_MB = 200
/** A generous safety limit: the hangs this guards against lasted until SIGKILL (631 s). */
const TIMEOUT_MS = 60_000
/** Any C0/C1 control character (tab and newline are the table's and the file's own). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

interface Bounded {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
  /** Highest RSS seen by polling /proc (MB), and whether it crossed the limit (then the child was killed). */
  peakMb: number
  overLimit: boolean
}

/**
 * Runs a child with a timeout and an RSS limit (the watchdog fixture bounded.js, called synchronously
 * so that it can run under withSystemLock): either is a SIGKILL and a flag, never a hung test or an
 * exhausted machine.
 */
function runBounded(argv: string[], opts: { uid?: number; gid?: number; timeoutMs?: number; rssLimitMb?: number; cwd?: string } = {}): Bounded {
  const spec = { argv, uid: opts.uid, gid: opts.gid, cwd: opts.cwd ?? dir, timeoutMs: opts.timeoutMs ?? TIMEOUT_MS, rssLimitMb: opts.rssLimitMb ?? RSS_LIMIT_MB }
  const r = spawnSync(process.execPath, [BOUNDED, JSON.stringify(spec)], { encoding: 'utf8', timeout: spec.timeoutMs + 30_000, maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`the watchdog failed (${r.status ?? r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout)
}

interface Report {
  ms: number
  samples: number
  warnings: string[]
  jsNames: string[]
  table: string
  svgFile?: string
  maxRssKb: number
  error?: { name: string; code?: string; message: string }
}

/** Runs the hostile-profile fixture in a bounded child; fails the test on a hang, an RSS blow-up or a crash. */
function hostile(t: import('ava').ExecutionContext, plant: string, exited: boolean, extra: Record<string, unknown> = {}, user?: { uid: number; gid: number }): Report {
  // A test user's child needs files it can read: the checkout may sit in a 0700 directory.
  const [runner, dist] = user ? [userFixture('hostile-profile.js'), userDist()] : [RUNNER, DIST]
  const r = runBounded([process.execPath, runner, dist, JSON.stringify({ plant, exited, cwd: dir, ...extra })], user ?? {})
  const what = `${plant}, ${exited ? 'exited' : 'live'} target${user ? `, uid ${user.uid}` : ''}`
  t.false(r.timedOut, `${what}: no hang (${TIMEOUT_MS / 1000} s)`)
  t.false(r.overLimit, `${what}: RSS stayed under ${RSS_LIMIT_MB} MB (peak ${r.peakMb.toFixed(0)} MB)`)
  t.is(r.status, 0, `${what}: ${r.stderr}`)
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as Report
  t.log(`${what}: stop() ${report.ms.toFixed(0)} ms, max RSS ${(report.maxRssKb / 1024).toFixed(0)} MB, ${report.samples} samples; ${report.warnings.filter((w) => /perf map/.test(w)).join(' ')}`)
  t.is(report.error, undefined, `${what}: stop() gives a profile`)
  t.true(report.samples > 0)
  t.true(report.maxRssKb / 1024 < RSS_LIMIT_MB)
  t.true(report.ms < 10_000, `${what}: stop() within seconds (${report.ms} ms)`)
  t.false(CONTROL.test(report.table), `${what}: the table has no control characters`)
  return report
}

/** The refusal reason each planted kind must give. */
const REFUSED: Record<string, RegExp> = {
  fifo: /was not read: it is not a regular file \(a FIFO\); its JIT frames are unnamed/,
  zero: /was not read: it is a symbolic link; its JIT frames are unnamed/,
  shadow: /was not read: it is a symbolic link; its JIT frames are unnamed/,
  sparse: /was not read: it is 2147483648 bytes, more than the 268435456 bytes read at most/,
}

for (const plant of Object.keys(REFUSED))
  test(`a ${plant === 'zero' ? 'symlink to /dev/zero' : plant === 'shadow' ? 'symlink to /etc/shadow' : plant === 'sparse' ? '2 GiB sparse file' : 'FIFO'} at /tmp/perf-<pid>.map: a profile with a warning (live and exited target), in seconds, under ${RSS_LIMIT_MB} MB`, async (t) => {
    for (const exited of [false, true]) {
      const r = hostile(t, plant, exited)
      t.is(r.warnings.filter((w) => REFUSED[plant].test(w)).length, 1, r.warnings.join('\n'))
    }
  })

;(root ? test : test.skip)('a perf map owned by another user is refused with a warning (root only: chown)', async (t) => {
  const user = freshUser('pe-hmap')
  t.teardown(() => user.remove())
  for (const exited of [false, true]) {
    const r = hostile(t, 'foreign', exited, { foreignUid: user.uid })
    t.true(
      r.warnings.some((w) => new RegExp(`was not read: it belongs to uid ${user.uid}, not to the profiled process's user \\(uid 0\\) or root`).test(w)),
      r.warnings.join('\n'),
    )
  }
})

test('malformed lines (non-hex address, negative size, non-UTF-8 name) are skipped and counted, live and exited alike; the rest names JS frames', async (t) => {
  for (const exited of [false, true]) {
    const r = hostile(t, 'malformed', exited)
    t.true(r.jsNames.includes('hotLoop'), r.jsNames.join(', '))
    t.is(r.warnings.filter((w) => /: 3 malformed lines skipped \(\d+ entries read\)\./.test(w)).length, 1, r.warnings.join('\n'))
  }
})

test('control characters in JS names: escaped in the table, folded stacks and SVG (well-formed for an XML parser), exact in pprof and Firefox JSON', async (t) => {
  const raw = 'hot\x1b[31mRed\x07Bell\x1b]0;title\x07'
  for (const exited of [false, true]) {
    const out = join(dir, `controls-${exited}`)
    const r = hostile(t, 'controls', exited, { out })
    t.true(r.jsNames.includes(raw), 'the name itself is kept exact in the model')
    t.true(r.table.includes('hot\\x1b[31mRed\\x07Bell\\x1b]0;title\\x07'), r.table)
    const svg = readFileSync(`${out}.svg`, 'utf8')
    const parser = new SaxesParser()
    const errors: string[] = []
    parser.on('error', (e) => errors.push(e.message))
    let texts = 0
    parser.on('text', (s) => void (s.includes('hot\\x1b[31mRed') && texts++))
    parser.write(svg).close()
    t.deepEqual(errors, [], 'saxes finds the SVG well-formed')
    t.true(texts > 0, 'the escaped name is in the SVG text')
    t.false(CONTROL.test(readFileSync(`${out}.folded`, 'utf8')))
    // JSON and pprof keep names exact: their readers escape as they need.
    const fx = JSON.parse(readFileSync(`${out}.firefox.json`, 'utf8'))
    const strings: string[] = []
    const walk = (v: unknown) => (typeof v === 'string' ? strings.push(v) : v && typeof v === 'object' ? Object.values(v).forEach(walk) : undefined)
    walk(fx)
    t.true(strings.some((s) => s.includes(raw)), 'Firefox JSON has the exact name')
    const pp = PprofProfile.decode(readFileSync(`${out}.pb.gz`).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])) ? gunzipSync(readFileSync(`${out}.pb.gz`)) : readFileSync(`${out}.pb.gz`))
    t.true(pp.stringTable.strings.some((s: string) => s.includes(raw)), 'pprof has the exact name')
  }
})

;(root ? test : test.skip)('as a regular user (a fresh user): a FIFO, a /dev/zero symlink and malformed lines give profiles with warnings, bounded', async (t) => {
  const user = freshUser('pe-hstl')
  t.teardown(() => user.remove())
  withSystemLock(() => {
    const fifo = hostile(t, 'fifo', false, {}, user)
    t.true(fifo.warnings.some((w) => REFUSED.fifo.test(w)), fifo.warnings.join('\n'))
    const zero = hostile(t, 'zero', true, {}, user)
    t.true(zero.warnings.some((w) => REFUSED.zero.test(w)), zero.warnings.join('\n'))
    const bad = hostile(t, 'malformed', true, {}, user)
    t.true(bad.jsNames.includes('hotLoop'))
    t.true(bad.warnings.some((w) => /3 malformed lines skipped/.test(w)), bad.warnings.join('\n'))
  })
})

test('PerfMap.open: the policy in one place (types, links, owner, size cap, budget), and lookups where later lines win', (t) => {
  const me = process.geteuid!()
  const p = join(dir, 'unit.map')
  writeFileSync(p, '1000 100 JS:*a x.js:1:1\n1050 10 JS:*b x.js:2:1\nnot a line\n\n2000 10 \n1000 100 JS:*c x.js:3:1\r\n')
  const r = PerfMap.open(p, { uids: [me] })
  t.is(r.bad, 2, 'one line without hex, one with an empty name')
  t.regex(r.warning ?? '', /2 malformed lines skipped \(3 entries read\)/)
  t.deepEqual(r.map!.lookupAll([0x1000n, 0x1055n, 0x1099n, 0x10ffn, 0x1100n, 0xfffn, 1n << 60n]), ['JS:*c x.js:3:1', 'JS:*c x.js:3:1', 'JS:*c x.js:3:1', 'JS:*c x.js:3:1', undefined, undefined, undefined])
  t.is(PerfMap.open(join(dir, 'absent.map'), { uids: [me] }).warning, undefined, 'no map, no warning: the caller says what is missing')
  t.regex(PerfMap.open(p, { uids: [me], maxBytes: 10 }).warning ?? '', /more than the 10 bytes read at most/)
  const link = join(dir, 'link.map')
  symlinkSync(p, link)
  t.regex(PerfMap.open(link, { uids: [me] }).warning ?? '', /it is a symbolic link/)
  t.regex(PerfMap.open(dir, { uids: [me] }).warning ?? '', /not a regular file \(a directory\)/)
  t.regex(PerfMap.open('/dev/zero', { uids: [me] }).warning ?? '', /not a regular file \(a character device\)/)
  if (root) {
    const other = join(dir, 'other.map')
    writeFileSync(other, '1000 10 JS:*x y.js:1:1\n')
    chownSync(other, 65534, 65534)
    t.regex(PerfMap.open(other, { uids: [0] }).warning ?? '', /belongs to uid 65534/)
    t.is(PerfMap.open(other, { uids: [65534] }).map?.size, 1)
  }
  // 10^6 lines: read and looked up within the budget, in bounded memory.
  const big = join(dir, 'big.map')
  const lines: string[] = []
  for (let i = 0; i < 1_000_000; i++) lines.push(`${(0x10000000 + i * 0x40).toString(16)} 40 JS:*f${i} big.js:${i}:1`)
  writeFileSync(big, lines.join('\n'))
  const t0 = process.hrtime.bigint()
  const b = PerfMap.open(big, { uids: [me] })
  const names = b.map!.lookupAll(Array.from({ length: 100_000 }, (_, i) => BigInt(0x10000000 + i * 10 * 0x40 + 1)))
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  t.log(`10^6-line map: read and 100 000 lookups in ${ms.toFixed(0)} ms`)
  t.is(b.map!.size, 1_000_000)
  t.is(names[12345], `JS:*f${123450} big.js:123450:1`)
  t.is(b.warning, undefined)
  rmSync(big)
})

test('claimPerfMap: a planted symlink, FIFO or another user\'s file refuses the child (ERR_PERF_MAP_UNSAFE with a hint); a fresh path is created and removed if left empty', (t) => {
  // A pid number above pid_max: the path is only a name here, no process of that number can exist.
  const pid = 4_194_304 + 1000 + (process.pid % 1000)
  const path = `/tmp/perf-${pid}.map`
  t.teardown(() => rmSync(path, { force: true }))
  rmSync(path, { force: true })
  const refuse = (why: RegExp) => {
    const e = t.throws(() => claimPerfMap(pid), { instanceOf: PerfEventError })
    t.is(e?.code, 'ERR_PERF_MAP_UNSAFE')
    t.regex(e?.message ?? '', why)
    t.regex((e as PerfEventError).hint ?? '', /rm \/tmp\/perf-\d+\.map/)
    rmSync(path, { force: true })
  }
  symlinkSync('/etc/passwd', path)
  refuse(/already exists and is a symbolic link/)
  execFileSync('mkfifo', [path])
  refuse(/already exists and is a FIFO/)
  if (root) {
    writeFileSync(path, '')
    chownSync(path, 65534, 65534)
    refuse(/already exists and belongs to uid 65534/)
  }
  const c = claimPerfMap(pid)
  t.true(c.created)
  t.is(lstatSync(path).uid, process.geteuid!())
  c.release()
  t.false(existsSync(path), 'an empty claimed map is removed')
  const d = claimPerfMap(pid)
  writeFileSync(path, '1000 10 JS:*x y.js:1:1\n', { flag: 'a' })
  d.release()
  t.true(existsSync(path), 'a map the command wrote is kept')
  const e = claimPerfMap(pid)
  t.false(e.created, 'a stale map of this user is accepted (V8 truncates it)')
  e.release()
})

;(root && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0 ? test : test.skip)(
  'record of a Node program with FIFOs, then symlinks to a 0600 file, planted for the next pids (a fresh pid namespace makes them known): refused in seconds, exit 1, nothing started or overwritten',
  (t) => {
    // In a new pid namespace the command gets a small pid: the FIFOs cover them all. Host pids that
    // small are kernel threads, which never open a perf map.
    const planted: string[] = []
    t.teardown(() => planted.forEach((p) => rmSync(p, { force: true })))
    for (let pid = 2; pid <= 300; pid++) {
      const p = `/tmp/perf-${pid}.map`
      if (existsSync(p)) continue
      execFileSync('mkfifo', [p])
      planted.push(p)
    }
    const r = runBounded(['unshare', '--pid', '--fork', '--mount-proc', process.execPath, CLI, 'record', '-o', join(dir, 'ns.pb.gz'), '--', process.execPath, '-e', 'console.log("ran")'])
    t.false(r.timedOut, 'no hang')
    t.is(r.status, 1, r.stderr)
    t.regex(r.stderr, /V8's perf map path \/tmp\/perf-\d+\.map of the command \(pid \d+\) already exists and is a FIFO/)
    t.notRegex(r.stdout, /ran/, 'the command was not started')
    t.false(existsSync(join(dir, 'ns.pb.gz')))
    // Symlinks to a root-only 0600 file: V8 (run as root) would truncate it and write its map there.
    const secret = join(dir, 'secret')
    writeFileSync(secret, 'root only\n', { mode: 0o600 })
    for (const p of planted) {
      rmSync(p, { force: true })
      symlinkSync(secret, p)
    }
    const s = runBounded(['unshare', '--pid', '--fork', '--mount-proc', process.execPath, CLI, 'record', '-o', join(dir, 'ns2.pb.gz'), '--', process.execPath, '-e', 'console.log("ran")'])
    t.false(s.timedOut, 'no hang')
    t.is(s.status, 1, s.stderr)
    t.regex(s.stderr, /V8's perf map path \/tmp\/perf-\d+\.map of the command \(pid \d+\) already exists and is a symbolic link/)
    t.is(readFileSync(secret, 'utf8'), 'root only\n', 'the file behind the symlink is untouched')
  },
)

/** Children of `pid` (from /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** Whether `pid` is gone or a zombie (killed, not reaped yet). */
function ended(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** Starts `record -- node -e <code>` and waits until its command runs (`code` prints "up" once it is ready). */
async function startRecord(code: string, out: string) {
  const rec = spawn(process.execPath, [CLI, 'record', '-o', out, '--', process.execPath, '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
    // Without the test runner's NODE_OPTIONS (its loader has signal handlers of its own).
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  let stderr = ''
  rec.stderr.on('data', (d) => (stderr += d))
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => rec.on('close', (code, signal) => resolve({ code, signal })))
  await new Promise((resolve) => rec.stdout.once('data', resolve))
  const [child] = childrenOf(rec.pid!)
  return { rec, child, closed, stderr: () => stderr }
}

/** Polls until `f()` or `ms` pass; the time it took (ms). */
async function until(f: () => boolean, ms: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  while (!f() && Number(process.hrtime.bigint() - t0) / 1e6 < ms) await new Promise((r) => setTimeout(r, 5))
  return Number(process.hrtime.bigint() - t0) / 1e6
}

test('SIGTERM to record (its pid only, as timeout/docker stop send it): the command ends within a second, the profile is written, exit 143', async (t) => {
  const out = join(dir, 'sigterm.pb.gz')
  const { rec, child, closed, stderr } = await startRecord("process.stdout.write('up\\n'); for (;;) {}", out)
  t.true(child > 0)
  const t0 = process.hrtime.bigint()
  rec.kill('SIGTERM')
  const childMs = await until(() => ended(child), 10_000)
  const r = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000))])
  const recordMs = Number(process.hrtime.bigint() - t0) / 1e6
  if (r === null) rec.kill('SIGKILL')
  t.log(`command ended ${childMs.toFixed(0)} ms after SIGTERM; record (symbolized, wrote the file) exited ${recordMs.toFixed(0)} ms after it, code ${r?.code}`)
  t.true(childMs < 1000, `the command ended within a second (${childMs} ms)`)
  t.is(r?.code, 143, stderr())
  t.regex(stderr(), /Wrote .*sigterm\.pb\.gz \(pprof\): \d+ samples/)
  t.true(PprofProfile.decode(gunzipSync(readFileSync(out))).sample.length > 0)
})

test('SIGINT to record is forwarded too; a second signal (the command ignores the first) exits at once with 128+signal and kills the command', async (t) => {
  const { rec, child, closed } = await startRecord("process.on('SIGINT', () => {}); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.stdout.write('up\\n')", join(dir, 'twice.pb.gz'))
  rec.kill('SIGINT')
  // The command ignores it: record waits for it.
  spinCpu(50)
  t.false(ended(child), 'the command handled the first signal and runs on')
  rec.kill('SIGTERM')
  const r = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000))])
  if (r === null) rec.kill('SIGKILL')
  t.is(r?.code, 143, 'exit 128 + SIGTERM')
  t.true((await until(() => ended(child), 5000)) < 5000, 'the command was killed')
})

test('smaller checks: top() thread index vs tid, toSvg options, profileCommand of a non-executable file', async (t) => {
  const p = await profile(() => spinCpu(30))
  const tid = p.threads[0].tid
  t.deepEqual(p.top(5, { tid }).rows, p.top(5, { thread: 0 }).rows)
  t.true(p.top(5, { tid }).rows.length > 0)
  t.throws(() => p.top(5, { tid: 1 }), { instanceOf: RangeError, message: /^Expected the tid of a thread of this profile \(\d+.*\) for options\.tid but received number 1$/ })
  t.throws(() => p.top(5, { thread: tid }), { instanceOf: RangeError, message: /^Expected a thread index \(an integer from 0 to \d+; options\.tid takes a thread id\) for options\.thread/ })
  t.throws(() => p.top(5, { thread: 0, tid }), { instanceOf: TypeError, message: /received both/ })
  t.throws(() => p.top(5, { tid: 1.5 }), { instanceOf: TypeError, message: /^Expected a thread id/ })
  for (const width of [-1, 1e10, 0]) await t.throwsAsync(() => p.toSvg({ width }), { instanceOf: RangeError, message: /^Expected an integer from 100 to 100000 \(pixels\) for options\.width but received number/ })
  for (const width of [NaN, 1.5, '800'] as unknown[]) await t.throwsAsync(() => p.toSvg({ width } as never), { instanceOf: TypeError, message: /for options\.width/ })
  await t.throwsAsync(() => p.toSvg(null as never), { instanceOf: TypeError, message: 'Expected an options object for options but received null' })
  await t.throwsAsync(() => p.toSvg({ title: 1 } as never), { instanceOf: TypeError, message: /for options\.title/ })
  t.true((await p.toSvg({ width: 800 })).includes('width="800"'))
  const e = await t.throwsAsync(() => profileCommand('/etc/passwd', [], { stdio: 'ignore' }), { instanceOf: PerfEventError })
  t.is(e?.code, 'EACCES')
  t.regex(e?.message ?? '', /Could not start \/etc\/passwd: not executable/)
})
