import test, { type ImplementationFn } from 'ava'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Counter, PerfEventError } from '../dist/index.js'

export const FIXTURES = join(import.meta.dirname, 'fixtures')

/**
 * Registers a test that runs only when `reason` is empty; otherwise ava registers it as skipped, the
 * reason at the end of its title, so it is counted and listed as skipped, never as passed. Decide
 * `reason` when the file loads: ava cannot skip a test once it has started.
 */
export function testUnless(reason: string | undefined, opts: { serial?: boolean } = {}): (title: string, impl: ImplementationFn<[]>) => void {
  return (title, impl) => {
    if (!reason) (opts.serial ? test.serial : test)(title, impl)
    else (opts.serial ? test.serial.skip : test.skip)(`${title} [skipped: ${reason}]`, impl)
  }
}

/** Why a test that needs root cannot run here, or '' as root. */
export const notRoot = (what: string): string => (process.getuid?.() === 0 ? '' : `not root: ${what}`)

/** Installs a Debian package when its command is missing (root only); returns why not when it cannot. */
export function ensureCommand(cmd: string, pkg: string): string | undefined {
  const has = () => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
  if (has()) return undefined
  if (process.getuid?.() !== 0) return `${cmd} is missing and installing ${pkg} needs root`
  const r = spawnSync('sh', ['-c', `apt-get install -y -qq ${pkg} || (apt-get update -qq && apt-get install -y -qq ${pkg})`], { stdio: 'ignore', timeout: 600_000 })
  return r.status === 0 && has() ? undefined : `apt-get install ${pkg} failed`
}

/** Open fds of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

/** Whether a hardware PMU answers; prints why not. */
export function hardwareAvailable(): { ok: boolean; reason: string } {
  try {
    new Counter('instructions:u').close()
    return { ok: true, reason: '' }
  } catch (e) {
    const reason = e instanceof PerfEventError ? `${e.code}: ${e.hint ?? e.message}` : String(e)
    return { ok: false, reason }
  }
}

/** Builds the probe fixture (non-PIE) and returns its path and the vaddr/file offset of probed(). */
export function buildProbed(): { path: string; vaddr: bigint; offset: bigint } {
  const dir = join(FIXTURES, 'build')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'probed')
  execFileSync('gcc', ['-O1', '-no-pie', '-fno-pie', '-o', path, join(FIXTURES, 'probed.c')])
  const nm = execFileSync('nm', [path], { encoding: 'utf8' })
  const line = nm.split('\n').find((l) => / [Tt] probed$/.test(l))
  if (!line) throw new Error('probed not found by nm')
  const vaddr = BigInt(`0x${line.split(' ')[0]}`)
  return { path, vaddr, offset: fileOffset(path, vaddr) }
}

/** Maps a virtual address to a file offset through the ELF64 program headers. */
export function fileOffset(path: string, vaddr: bigint): bigint {
  const elf = readFileSync(path)
  const phoff = Number(elf.readBigUInt64LE(0x20))
  const phentsize = elf.readUInt16LE(0x36)
  const phnum = elf.readUInt16LE(0x38)
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize
    if (elf.readUInt32LE(at) !== 1) continue // PT_LOAD
    const offset = elf.readBigUInt64LE(at + 8)
    const va = elf.readBigUInt64LE(at + 16)
    const memsz = elf.readBigUInt64LE(at + 40)
    if (vaddr >= va && vaddr < va + memsz) return vaddr - va + offset
  }
  throw new Error(`no PT_LOAD segment holds 0x${vaddr.toString(16)}`)
}

/** Starts the fixture; it calls probed() n times once `go()` is called. */
export function startProbed(path: string, n: number) {
  const child = spawn(path, [String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`probed exited ${code}`))))
  })
  return { pid: child.pid!, go: () => child.stdin.end('g'), done }
}

export function tracefsMounted(): boolean {
  return existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events')
}

/** Bytes above glibc's largest dynamic mmap threshold (32 MiB): every allocation gets fresh pages. */
export const FRESH_BYTES = 40 << 20
/** Allocates fresh memory and touches each page once; returns the number of pages touched. */
export function touchFreshPages(): number {
  const b = Buffer.allocUnsafeSlow(FRESH_BYTES)
  let pages = 0
  for (let i = 0; i < b.length; i += 4096, pages++) b[i] = 1
  return pages
}

/** This thread's CPU time in ns (`/proc/thread-self/schedstat`; updated at scheduler ticks). */
export function threadCpuNs(): bigint {
  return BigInt(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0])
}

/**
 * Busy JS for at least `ms` of this thread's CPU time (not wall time, which stretches when other
 * work shares the CPUs). Opens no perf event, so it can run inside a measured section.
 */
export function spin(ms: number): number {
  const end = threadCpuNs() + BigInt(Math.round(ms * 1e6))
  let x = 0
  while (threadCpuNs() < end) for (let i = 0; i < 10_000; i++) x++
  return x
}

/**
 * Busy JS until this thread has used `ms` of CPU time (measured by its own task-clock counter):
 * unlike wall time, this does not shrink when other test files share the CPUs.
 */
export function spinCpu(ms: number): number {
  using clock = new Counter('task-clock', undefined, { enable: true })
  const target = BigInt(Math.round(ms * 1e6))
  let x = 0
  while (clock.stat().count < target) for (let i = 0; i < 1000; i++) x++
  return x
}

/**
 * A new unprivileged system user for one test (root only), removed by `remove()`. A fresh user
 * per run: the kernel's per-user locked-memory budget (perf_event_mlock_kb) is shared by all of a
 * user's processes, and a user whose budget some other program leaked stays refused until reboot.
 */
export function freshUser(prefix: string): { name: string; uid: number; gid: number; remove(): void } {
  const name = `${prefix}${process.pid}${Math.floor(Math.random() * 1e6)}`.slice(0, 31)
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name])
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim())
  return { name, uid, gid, remove: () => void spawnSync('userdel', [name]) }
}

/**
 * Runs `f` holding the suite's lock on system settings. Tests that change kernel.perf_event_paranoid
 * (hints.spec) and tests whose result depends on it (unprivileged children, doctor) take it, so
 * test files running side by side never see each other's temporary sysctl values.
 */
export function withSystemLock<T>(f: () => T): T {
  const dir = '/tmp/perf-event-open-tests.lock'
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  for (let waited = 0; ; waited += 20) {
    try {
      mkdirSync(dir)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      // A holder that died leaves the lock behind: take it over when its process is gone.
      let owner = 0
      try {
        owner = Number(readFileSync(`${dir}/pid`, 'utf8') || 0)
      } catch {} // not written yet, or just released
      if (owner > 0 && !existsSync(`/proc/${owner}`)) rmSync(dir, { recursive: true, force: true })
      else if (waited > 180_000) throw new Error(`the test lock ${dir} is held by pid ${owner} for more than 3 minutes`)
      else Atomics.wait(sleeper, 0, 0, 20)
    }
  }
  writeFileSync(`${dir}/pid`, String(process.pid))
  try {
    return f()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The repository root (this checkout). */
export const REPO = join(import.meta.dirname, '..')

/** Whether a user who is neither owner nor in the group can reach `path`: o+x on every directory above it and o+r on it. */
export function readableByOthers(path: string): boolean {
  try {
    for (let d = dirname(path); ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return false
      if (d === '/') break
    }
    const st = statSync(path)
    return (st.mode & (st.isDirectory() ? 0o005 : 0o004)) === (st.isDirectory() ? 0o005 : 0o004)
  } catch {
    return false
  }
}

let userRoot: string | undefined

/** Makes every file and directory under `dir` readable (and directories searchable) by everyone. */
function openUp(dir: string): void {
  chmodSync(dir, 0o755)
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) openUp(p)
    else chmodSync(p, statSync(p).mode | 0o444)
  }
}

/**
 * A package root that any user can read, for tests that run Node as another user (`freshUser()`):
 * the checkout itself when it is world-readable, else a copy of what the package needs at run time
 * (package.json, variants.json, dist/, the `.node` files, symbolize/'s loader and binary) in a fresh
 * directory under the system temp dir, removed when this test process exits. A checkout inside a
 * `0700` directory (root's home, `mktemp -d`) is not readable by the test users.
 */
export function userReadableRoot(): string {
  if (userRoot !== undefined) return userRoot
  if (readableByOthers(join(REPO, 'dist', 'index.js')) && readableByOthers(join(REPO, 'package.json'))) return (userRoot = REPO)
  const dir = mkdtempSync(join(tmpdir(), 'pe-user-pkg-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  const copy = (rel: string) => {
    if (existsSync(join(REPO, rel))) cpSync(join(REPO, rel), join(dir, rel), { recursive: true })
  }
  for (const f of ['package.json', 'variants.json', 'dist']) copy(f)
  for (const f of readdirSync(REPO)) if (f.endsWith('.node')) copy(f)
  mkdirSync(join(dir, 'symbolize'))
  for (const f of ['index.js', 'package.json', ...readdirSync(join(REPO, 'symbolize')).filter((n) => n.endsWith('.node'))]) copy(join('symbolize', f))
  openUp(dir)
  return (userRoot = dir)
}

/**
 * A fixture that a child running as a test user executes: the file itself when other users can read
 * the checkout, else a copy beside `userReadableRoot()`'s package (removed with it at exit).
 */
export function userFixture(name: string): string {
  const root = userReadableRoot()
  if (root === REPO) return join(FIXTURES, name)
  const copy = join(root, 'fixtures', name)
  if (!existsSync(copy)) {
    mkdirSync(dirname(copy), { recursive: true })
    cpSync(join(FIXTURES, name), copy)
    openUp(dirname(copy))
  }
  return copy
}

/** `dist/index.js` of `userReadableRoot()`: what a child running as a test user requires. */
export function userDist(file = 'index.js'): string {
  return join(userReadableRoot(), 'dist', file)
}
