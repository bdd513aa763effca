// Issue 12: inputs that hung the JS thread, closed a foreign fd, slipped through prototype lookups,
// or got the wrong hint. Each test failed before the fix.
import test from 'ava'
import { spawnSync, execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Counter, CounterGroup, PerfEventError, Sampler, addressOf, parseEvent } from '../dist/index.js'
import { decodeGroup } from '../dist/handles/stat.js'
import { testUnless } from './helpers.ts'

const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype)

/** The perf event fds of this process. */
function perfFds(): Set<number> {
  const out = new Set<number>()
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[perf_event]') out.add(Number(fd))
    } catch {}
  }
  return out
}

test('a cgroup target that is a FIFO fails fast with ENOTDIR and a cgroup hint (was: hung forever)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-fifo-'))
  try {
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    // In a child: before the fix open(2) blocked the JS thread, so the guard is the child's timeout.
    const code = `const { Counter } = require(${JSON.stringify(DIST)}); try { new Counter('cpu-clock', { cgroup: ${JSON.stringify(fifo)}, cpu: 0 }); console.log('opened') } catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, hint: e.hint })) }`
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000 })
    t.is(r.signal, null, 'the child did not hang')
    const out = JSON.parse(r.stdout.trim())
    t.is(out.code, 'ENOTDIR')
    t.is(out.syscall, 'open')
    t.regex(out.hint, /not a directory/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('counter.fd is borrowed: closing it does not break the counter, and close() never closes the file that reused the number', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-fd-'))
  try {
    const c = new Counter('task-clock')
    const fd = c.fd
    t.is(readlinkSync(`/proc/self/fd/${fd}`), 'anon_inode:[perf_event]')
    closeSync(fd) // misuse: e.g. handed to something that took ownership
    const file = openSync(join(dir, 'f'), 'w')
    t.is(file, fd, 'the number was reused (lowest free fd)')
    // Before: enable() gave ENOTTY, stat() EBADF. Now the counter still works.
    c.enable()
    let x = 0
    for (let i = 0; i < 1e5; i++) x += i
    c.disable()
    t.true(c.stat().count > 0n, String(x))
    t.not(c.fd, fd, 'a new duplicate is handed out')
    c.close()
    // Before: close() closed `file`, and this write failed with EBADF.
    t.is(writeSync(file, 'still mine'), 10)
    closeSync(file)
    t.is(readFileSync(join(dir, 'f'), 'utf8'), 'still mine')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("if the counter's own fd is closed behind its back: ERR_FD_REPLACED with a hint, and the new file is left alone", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-fd-'))
  try {
    const before = perfFds()
    const c = new Counter('task-clock')
    const own = [...perfFds()].filter((fd) => !before.has(fd))
    t.is(own.length, 1)
    closeSync(own[0])
    const file = openSync(join(dir, 'g'), 'w')
    t.is(file, own[0])
    const e = t.throws(() => c.enable(), { instanceOf: PerfEventError })
    t.is(e!.code, 'ERR_FD_REPLACED')
    t.regex(e!.hint!, /borrowed/)
    const e2 = t.throws(() => c.close(), { instanceOf: PerfEventError })
    t.is(e2!.code, 'ERR_FD_REPLACED')
    t.true(c.closed)
    t.notThrows(() => c.close(), 'close() stays idempotent')
    t.is(writeSync(file, 'ok'), 2)
    closeSync(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Closes `fds` behind their owner's back and opens a file for each number (lowest free fd first): the numbers are reused. */
function replaceFds(t: import('ava').ExecutionContext, fds: number[], path: (i: number) => string, content?: string): number[] {
  for (const fd of fds) closeSync(fd)
  const files = fds.map((_, i) => {
    if (content !== undefined) writeFileSync(path(i), content)
    return openSync(path(i), content === undefined ? 'w' : 'r+')
  })
  t.deepEqual([...files].sort((a, b) => a - b), [...fds].sort((a, b) => a - b), 'the numbers were reused (lowest free fds)')
  return files
}

function assertReplaced(t: import('ava').ExecutionContext, f: () => unknown, what: RegExp) {
  const e = t.throws(f, { instanceOf: PerfEventError })
  t.is(e!.code, 'ERR_FD_REPLACED', e!.message)
  t.regex(e!.hint!, what)
}

test("if a group's fds are closed behind its back: stat/enable/disable/reset/add/close give ERR_FD_REPLACED and never touch the files that took the numbers", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-gfd-'))
  try {
    const before = perfFds()
    const g = new CounterGroup('task-clock')
    g.add('page-faults')
    const own = [...perfFds()].filter((fd) => !before.has(fd))
    t.is(own.length, 2, 'the leader and the member have their own fds')
    const files = replaceFds(t, own, (i) => join(dir, `w${i}`))
    // Before: stat() read the write-only file (EBADF) and close() closed both files.
    assertReplaced(t, () => g.stat(), /CounterGroup owns its file descriptors/)
    assertReplaced(t, () => g.enable(), /CounterGroup/)
    assertReplaced(t, () => g.disable(), /CounterGroup/)
    assertReplaced(t, () => g.reset(), /CounterGroup/)
    assertReplaced(t, () => g.add('context-switches'), /CounterGroup/)
    assertReplaced(t, () => g.close(), /CounterGroup/)
    t.true(g.closed)
    t.notThrows(() => g.close(), 'close() stays idempotent')
    for (const f of files) {
      t.is(writeSync(f, 'still mine'), 10)
      closeSync(f)
    }
    t.deepEqual(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')), ['still mine', 'still mine'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("a group read that succeeds on a foreign file (the numbers reused by readable files) is ERR_FD_REPLACED, not a decoding Error", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-gfd-'))
  try {
    const before = perfFds()
    const g = new CounterGroup('task-clock')
    g.add('page-faults')
    const own = [...perfFds()].filter((fd) => !before.has(fd))
    // 56 bytes: exactly the size of this group's read (nr, 2 times, 2 x (value, id)), so only the
    // decoding sees it: before, decodeGroup threw a plain Error ("group read has N values…").
    const files = replaceFds(t, own, (i) => join(dir, `r${i}`), 'x'.repeat(56))
    assertReplaced(t, () => g.stat(), /CounterGroup/)
    assertReplaced(t, () => g.close(), /CounterGroup/)
    for (const f of files) {
      t.is(writeSync(f, 'ok', 56), 2)
      closeSync(f)
    }
    // A counter: 32 bytes, the size of its read, so only its id tells the foreign data apart.
    const mine = perfFds()
    const c = new Counter('task-clock')
    const fd = [...perfFds()].filter((n) => !mine.has(n))
    t.is(fd.length, 1)
    const [file] = replaceFds(t, fd, () => join(dir, 'c'), 'y'.repeat(32))
    assertReplaced(t, () => c.stat(), /borrowed/)
    assertReplaced(t, () => c.close(), /borrowed/)
    t.is(writeSync(file, 'ok', 32), 2)
    closeSync(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("a group whose member fd is closed behind its back: a failed enable() leaves it stopped (add() does not restart it), and close() closes only the intact fds", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-gfd-'))
  try {
    const before = perfFds()
    const g = new CounterGroup('task-clock')
    const leader = [...perfFds()].filter((fd) => !before.has(fd))
    g.add('page-faults')
    const member = [...perfFds()].filter((fd) => !before.has(fd) && !leader.includes(fd))
    t.is(leader.length, 1)
    t.is(member.length, 1)
    g.enable()
    const [file] = replaceFds(t, member, () => join(dir, 'm'))
    // enable() stops the leader, then fails at the member: the group is not running any more.
    assertReplaced(t, () => g.enable(), /CounterGroup/)
    // Before: enable() had marked the group running, so add() restarted the leader and failed again.
    t.is(g.add('context-switches'), 2)
    const added = [...perfFds()].filter((fd) => !before.has(fd) && !leader.includes(fd))
    t.is(added.length, 1)
    // The kernel dropped the closed member from the group: the read has 2 values for 3 members.
    assertReplaced(t, () => g.stat(), /CounterGroup/)
    assertReplaced(t, () => g.close(), /CounterGroup/)
    const after = perfFds()
    t.false(after.has(leader[0]), "the leader's fd was closed")
    t.false(after.has(added[0]), "the new member's fd was closed")
    t.is(writeSync(file, 'ok'), 2)
    closeSync(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('decodeGroup: a read that does not fit its members is a PerfEventError (ERR_PERF with a hint, or what the fd check throws)', (t) => {
  const b = new BigUint64Array([2n, 100n, 100n, 10n, 1n, 20n, 7n])
  const members = [{ label: 'a', id: 1n }, { label: 'b', id: 2n }]
  const e = t.throws(() => decodeGroup(b, members, false), { instanceOf: PerfEventError })
  t.is(e!.code, 'ERR_PERF')
  t.regex(e!.message, /value 1 has id 7, expected member b/)
  t.regex(e!.hint!, /ERR_FD_REPLACED/)
  const few = t.throws(() => decodeGroup(b, [...members, { label: 'c', id: 3n }], false), { instanceOf: PerfEventError })
  t.regex(few!.message, /2 values for 3 members/)
  // The bytes read (last slot) are checked first, then `verify` decides (here: the fds were replaced).
  const replaced = new PerfEventError('replaced', 'ERR_FD_REPLACED')
  const sized = new BigUint64Array([2n, 100n, 100n, 10n, 1n, 20n, 2n, 56n])
  t.is(decodeGroup(sized, members, false, { bytes: 56, verify: () => t.fail('not called for a read that fits') }).members[1].count, 20n)
  t.is(t.throws(() => decodeGroup(sized, members, false, { bytes: 64, verify: () => { throw replaced } })), replaced)
})

test('Object.prototype member names are unknown events, cache parts, modifiers and PMU terms', (t) => {
  for (const name of PROTO_NAMES) {
    for (const ev of [name, `l1-dcache-${name}`, `llc-load-${name}`, `L1-dcache-${name}-misses`, `${name}-load`]) {
      const e = t.throws(() => parseEvent(ev))
      t.true(e instanceof PerfEventError || e instanceof TypeError, `${ev}: ${e}`)
      t.throws(() => new Counter(ev))
    }
    t.throws(() => new Counter(`task-clock:${name}`))
    const term = t.throws(() => new Counter(`msr/${name}/`), { instanceOf: PerfEventError })
    t.is(term!.code, 'ERR_UNKNOWN_EVENT')
    t.throws(() => new Counter({ type: 'software', name } as never), { instanceOf: TypeError })
    t.throws(() => new Counter({ type: 'hwCache', cache: name, op: 'read', result: 'miss' } as never), { instanceOf: TypeError })
  }
})

/** Every object-valued option path: each gets every Object.prototype name as an unknown key. */
const OBJECT_PATHS = [
  [],
  ['exclude'],
  ['statFormat'],
  ['sampleOn'],
  ['sampleFormat'],
  ['sampleFormat', 'callChain'],
  ['sampleFormat', 'lbr'],
  ['sampleFormat', 'lbr', 'targetPriv'],
  ['sampleFormat', 'lbr', 'branchType'],
  ['sampleFormat', 'lbr', 'entryFormat'],
  ['extraRecord'],
  ['extraRecord', 'mmap'],
  ['extraRecord', 'mmap', 'ext'],
  ['recordIdFormat'],
  ['wakeUp'],
  ['wakeUp', 'on'],
]

function nest(path: string[], leaf: object): object {
  return path.reduceRight<object>((inner, key) => Object.fromEntries([[key, inner]]), leaf)
}

test('Object.prototype member names as option keys are rejected at every nesting level, with a TypeError', (t) => {
  using group = new CounterGroup('task-clock')
  for (const path of OBJECT_PATHS) {
    for (const name of PROTO_NAMES) {
      for (const value of [{}, 'x', 1, { a: 1 }, { valueOf: {} }]) {
        // Object.fromEntries makes an own property even for '__proto__'.
        const options = nest(path, Object.fromEntries([[name, value]]))
        const e = t.throws(() => new Counter('task-clock', {}, options as never), undefined, `${path.join('.')}.${name}`)
        t.true(e instanceof TypeError, `${path.join('.')}.${name}: ${e}`)
        t.regex(e!.message, /Unknown option|exactly one of/)
        const g = t.throws(() => group.add('page-faults', options as never))
        t.true(g instanceof TypeError, `member ${path.join('.')}.${name}: ${g}`)
      }
    }
  }
})

test('event values that name Object.prototype members are rejected', (t) => {
  for (const name of PROTO_NAMES) {
    for (const key of ['inherit', 'onExecve', 'sampleSkid', 'timer']) {
      t.throws(() => new Counter('task-clock', {}, Object.fromEntries([[key, name]]) as never), { instanceOf: TypeError })
    }
    t.throws(() => new Counter('task-clock', Object.fromEntries([[name, 1]]) as never), { instanceOf: TypeError })
  }
})

test('PMU event strings: a length bound with a clear RangeError, and linear parsing below it', (t) => {
  const long = `msr/${'tsc,'.repeat(2000)}/`
  t.throws(() => parseEvent(long), { instanceOf: RangeError, message: /at most 4096 characters for event but received one of 8005/ })
  // Below the bound: 1000 terms parse (before, each term re-serialised the whole string).
  const ok = `msr/${'tsc,'.repeat(1000)}/`
  t.is(parseEvent(ok).native.type, 'dynamic')
  t.throws(() => parseEvent('x'.repeat(5000)), { instanceOf: RangeError })
})

test('the public Sampler constructor refuses objects it did not create', (t) => {
  t.throws(() => new (Sampler as unknown as new (...a: unknown[]) => unknown)({}, {}), { instanceOf: TypeError, message: /counter\.sampler\(exp\)/ })
  t.throws(() => new (Sampler as unknown as new (...a: unknown[]) => unknown)({ drain: () => [] }, { what: 'x' }, Symbol('perf-event-open sampler')), { instanceOf: TypeError })
  using c = new Counter('cpu-clock', {}, { sampleOn: { count: 100000 } })
  using s = c.sampler(0)
  t.true(s instanceof Sampler)
})

test('PerfEventError accepts null options', (t) => {
  const e = new PerfEventError('m', 'c', null)
  t.is(e.code, 'c')
  t.is(e.hint, undefined)
  t.is(e.errno, 0)
})

test('hints name the cause: breakpoint slots, missing uprobe file, kprobe PMU on switchTo', (t) => {
  // 5th watchpoint: x86-64 has 4 debug registers.
  const bufs = Array.from({ length: 8 }, () => Buffer.alloc(64))
  const open: Counter[] = []
  let err: unknown
  try {
    for (const b of bufs) open.push(new Counter(`mem:0x${addressOf(b).toString(16)}/8:w`))
  } catch (e) {
    err = e
  } finally {
    for (const c of open) c.close()
  }
  if (err === undefined) t.log(`${open.length} watchpoints opened: no slot limit reached on this machine`)
  else {
    t.true(err instanceof PerfEventError, String(err))
    t.is((err as PerfEventError).code, 'ENOSPC')
    t.regex((err as PerfEventError).hint!, /breakpoint slots are in use/)
  }

  const up = t.throws(() => new Counter({ type: 'uprobe', path: '/nonexistent/file', offset: 0 }), { instanceOf: PerfEventError })
  t.is(up!.code, 'ENOENT')
  t.regex(up!.hint!, /file to probe does not exist: \/nonexistent\/file/)
  t.notRegex(up!.hint!, /CONFIG_UPROBE_EVENTS/)

  using bp = new Counter('mem:0x1000/8:w')
  const kp = t.throws(() => bp.switchTo({ type: 'kprobe', symbol: 'do_sys_open' }), { instanceOf: PerfEventError })
  if (readdirSync('/sys/bus/event_source/devices').includes('kprobe')) t.log('kprobe PMU present: switchTo reached the kernel')
  else {
    t.is(kp!.code, 'ENOENT')
    t.is(kp!.syscall, 'lookup', 'the PMU lookup failed, not the ioctl')
    t.regex(kp!.hint!, /kprobe PMU is missing/)
  }
})

const v1 = '/sys/fs/cgroup/cpu'
let isV1Cpu = false
try {
  isV1Cpu = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.includes(` ${v1} `) && / - cgroup cgroup \S*\bcpu\b/.test(l) && !l.includes('perf_event'))
} catch {}

testUnless(isV1Cpu ? '' : `${v1} is not a cgroup v1 cpu hierarchy here`)('hints name the cause: a cgroup v1 controller other than perf_event', (t) => {
  const cg = t.throws(() => new Counter('cpu-clock', { cgroup: v1, cpu: 0 }), { instanceOf: PerfEventError })
  t.regex(cg!.hint!, /not another v1 controller such as cpu/)
  t.notRegex(cg!.hint!, /does not know this event/)
})

test('knownEventNames(): every name parses, in perf spelling, and unknown names get "did you mean"', async (t) => {
  const { knownEventNames } = await import('../dist/index.js')
  const names = knownEventNames()
  t.is(names.cache.length, 7 * 3 * 2)
  t.true(names.cache.includes('L1-dcache-load-misses'))
  t.true(names.software.includes('task-clock'))
  for (const n of names.hardware) t.is(parseEvent(n).native.type, 'hardware', n)
  for (const n of names.software) t.is(parseEvent(n).native.type, 'software', n)
  for (const n of names.cache) t.is(parseEvent(n).native.type, 'hwCache', n)
  // The native side takes every name (string enums): software ones open here.
  for (const n of names.software) {
    try {
      new Counter(`${n}:u`).close()
    } catch (e) {
      // Kernel-only events (context-switches, cpu-migrations, cgroup-switches) refuse ':u', which would always read 0 (issue 21).
      const kernelOnly = e instanceof RangeError && /fires only in kernel mode/.test(e.message) && ['context-switches', 'cs', 'cpu-migrations', 'migrations', 'cgroup-switches'].includes(n)
      t.true((e instanceof PerfEventError && e.code !== 'ERR_INVALID_ARG') || kernelOnly, `${n}: ${e}`)
    }
  }
  const e = t.throws(() => parseEvent('task-clok'), { instanceOf: PerfEventError })
  t.regex(e!.hint!, /Did you mean 'task-clock'\?/)
  t.regex(t.throws(() => parseEvent('L1-dcache-lod-misses'))!.message + (t.throws(() => parseEvent('L1-dcache-lod-misses')) as PerfEventError).hint, /L1-dcache-load-misses/)
  t.is((t.throws(() => parseEvent('zzzzzzzz')) as PerfEventError).hint, undefined, 'no suggestion when nothing is close')
})
