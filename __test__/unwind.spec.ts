// The user-stack unwinder (symbolize/src/unwind.rs through lib/profile/unwind.ts) on real samples from
// the real kernel: a child `node --perf-basic-prof` samples itself with userStack + userRegs and a
// frame-pointer call chain, then waits; this process unwinds its samples while it runs and names
// the frames with the profiler's own user symbolizer (ELF/DWARF files, V8's perf map).
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerfEventError } from '../dist/index.js'
import { StackUnwinder, UNWIND_REGS_MASK } from '../dist/profile/unwind.js'
import { userSymbolizer } from '../dist/profile/usersyms.js'
import { notRoot, openFds, testUnless } from './helpers.ts'

const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')
const dir = mkdtempSync(join(tmpdir(), 'pe-unwind-'))
const children: number[] = []
test.after.always(() => {
  rmSync(dir, { recursive: true, force: true })
  // V8 writes /tmp/perf-<pid>.map for each child: leave none behind.
  for (const pid of children) rmSync(`/tmp/perf-${pid}.map`, { force: true })
})

interface RawSample {
  regs: string[]
  stack: string
  fp: string[]
}

/**
 * The child prelude: `record(counter, fn)` samples `fn` with a 16 KiB user stack, the unwinder's
 * registers and a user call chain (frame pointers), writes the samples to `out`, prints `ready` and
 * stays alive until its stdin closes (its mappings and perf map must exist while we unwind).
 */
const PRELUDE = `
const pe = require(${JSON.stringify(DIST)})
const fs = require('node:fs')
const out = process.argv[2]
const SAMPLE = { userStack: 16384, userRegs: ${UNWIND_REGS_MASK}n, callChain: { excludeKernel: true } }
function cpuNs() { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) }
function record(c, fn) {
  const s = c.sampler(9)
  c.enable(); fn(); c.disable()
  const samples = s.drain().filter((r) => r.type === 'sample').map((r) => ({
    regs: r.userRegs.values.map(String), stack: r.userStack.toString('base64'),
    fp: r.callChain.filter((x) => x.context === 'user').flatMap((x) => x.ips.map(String)),
  }))
  s.close(); c.close()
  return samples
}
function done(samples) {
  fs.writeFileSync(out, JSON.stringify(samples))
  console.log('ready')
  process.stdin.resume()
  process.stdin.on('end', () => process.exit(0))
}
`

/** Runs `body` in a child Node with V8's perf map; `check(pid, samples)` runs while the child waits. */
async function withChild<T>(name: string, body: string, check: (pid: number, samples: RawSample[]) => Promise<T>): Promise<T> {
  const script = join(dir, `${name}.js`)
  const out = join(dir, `${name}.json`)
  writeFileSync(script, PRELUDE + body)
  // cwd: V8 drops isolate-*.log files there. Interpreted frames get their own perf map entries.
  const child = spawn(process.execPath, ['--perf-basic-prof', '--interpreted-frames-native-stack', script, out], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child.pid!)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const poll = () => (stdout.includes('ready') ? resolve(true) : setTimeout(poll, 10))
      poll()
    }),
    exited.then(() => false),
  ])
  try {
    if (!ready) throw new Error(`${name} exited early: ${stderr}`)
    return await check(child.pid!, JSON.parse(readFileSync(out, 'utf8')) as RawSample[])
  } finally {
    child.stdin.end()
    await exited
  }
}

const big = (xs: string[]) => xs.map(BigInt)

/** Unwinds each sample, then names its unwound frames and its frame-pointer chain (one symbolizer call for all). */
async function unwindAll(pid: number, samples: RawSample[]) {
  const u = new StackUnwinder(pid)
  const unwound = samples.map((s) => u.unwind({ userRegs: { abi: 64, values: big(s.regs) }, userStack: Buffer.from(s.stack, 'base64') }))
  const chains = [...unwound.map((r) => [...r.frames]), ...samples.map((s) => big(s.fp))]
  // Return addresses point after the call: name the call instruction (as the profiler does).
  const addrs = chains.flatMap((c) => c.map((a, i) => (i === 0 ? a : a - 1n)))
  const sym = userSymbolizer({ mmaps: new Map(), uids: () => [process.getuid!()], warnings: [], perfMap: () => true })
  const named = (await sym(pid, addrs)).map((x) => x.name ?? '?')
  let at = 0
  const names = chains.map((c) => named.slice(at, (at += c.length)))
  const stacks = unwound.map((r, i) => ({ dwarf: names[i], end: r.end, fp: names[samples.length + i] }))
  return { stacks, modules: u.modulesLoaded, failures: u.failures }
}

const isJs = (n: string) => n.startsWith('JS:')

testUnless(notRoot('switch-out samples with stacks need perf_event_paranoid <= 1 or root'))(
  'context-switches (period 1) of a worker in Atomics.wait: the unwound stack names the JS function above the futex frames; the frame-pointer chain has no JS frame',
  async (t) => {
    const body = `
const { Worker, isMainThread, parentPort } = require('node:worker_threads')
if (isMainThread) new Worker(__filename).once('message', done)
else {
  const sab = new Int32Array(new SharedArrayBuffer(4))
  function waitOnAtomicsInJs() { return Atomics.wait(sab, 0, 0, 2) }
  const c = new pe.Counter('context-switches', undefined, { sampleOn: { count: 1 }, sampleFormat: SAMPLE })
  parentPort.postMessage(record(c, () => { for (let i = 0; i < 30; i++) waitOnAtomicsInJs() }))
}
`
    await withChild('atomics', body, async (pid, samples) => {
      const { stacks, modules, failures } = await unwindAll(pid, samples)
      const inFutex = stacks.filter((s) => /futex/.test(s.dwarf[0]))
      t.log(`${samples.length} switch-out samples, ${inFutex.length} in a futex wait; ${modules} modules loaded; failures: ${JSON.stringify(failures)}`)
      t.log(`unwound: ${inFutex[0]?.dwarf.slice(0, 9).join(' <- ')}`)
      t.log(`frame pointers: ${inFutex[0]?.fp.join(' <- ')}`)
      t.true(inFutex.length >= 25, `${inFutex.length} of ${samples.length} samples stopped in a futex wait (30 waits)`)
      t.deepEqual(failures, [])
      const good = inFutex.filter((s) => {
        const js = s.dwarf.findIndex((n) => /^JS:\S*waitOnAtomicsInJs /.test(n))
        const native = s.dwarf.findIndex((n) => /AtomicsWait/.test(n))
        return js > native && native > 0 && !s.fp.some(isJs)
      })
      t.is(good.length, inFutex.length, 'every futex sample: waitOnAtomicsInJs above Builtin_AtomicsWait above the futex, and no JS frame by frame pointers')
      // The worker's whole stack does not fit in 16 KiB: its outer frames are cut, said as such.
      t.true(inFutex.every((s) => s.end === 'truncated' || s.end === 'root'))
    })
  },
)

// A libc syscall wrapper keeps no frame of its own: a frame-pointer walk from inside it reads the
// caller's caller from rbp, so the function that called it (libuv's uv__fs_work here) is missing.
// (This Node keeps frame pointers in its C++ and JIT code, so both chains reach the JS function.)
test('cpu-clock samples of JS calling a libc wrapper (readSync of /dev/zero): the unwound stack has the wrapper\'s caller, which frame pointers skip, and the JS caller', async (t) => {
  const body = `
const fd = fs.openSync('/dev/zero', 'r')
const buf = Buffer.alloc(1 << 16)
function readsThroughLibc() { for (let i = 0; i < 100; i++) fs.readSync(fd, buf, 0, buf.length, null) }
const c = new pe.Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 }, sampleFormat: SAMPLE })
done(record(c, () => { const end = cpuNs() + 4e8; while (cpuNs() < end) readsThroughLibc() }))
`
  await withChild('libc', body, async (pid, samples) => {
    const { stacks, modules } = await unwindAll(pid, samples)
    // Samples in the kernel's read (most of them) carry the user registers of the syscall wrapper in libc;
    // those of readSync (node::fs::Read, by the frame-pointer chain), not of the loop's own CPU-time reads.
    const inLibc = stacks.filter((s) => /^(__libc_read|read|__GI___libc_read)$/.test(s.dwarf[0]) && s.fp.some((n) => n.startsWith('node::fs::Read(')))
    const js = (names: string[]) => names.findIndex((n) => /^JS:\S*readsThroughLibc /.test(n))
    const reached = inLibc.filter((s) => s.dwarf[1] === 'uv__fs_work' && js(s.dwarf) > 1)
    const fpSkips = inLibc.filter((s) => !s.fp.includes('uv__fs_work'))
    t.log(`${samples.length} samples, ${inLibc.length} stopped in libc's read under readSync; unwound: uv__fs_work then readsThroughLibc in ${reached.length}; frame pointers without uv__fs_work in ${fpSkips.length}; ${modules} modules`)
    t.log(`unwound: ${inLibc[0]?.dwarf.slice(0, 10).join(' <- ')}`)
    t.log(`frame pointers: ${inLibc[0]?.fp.slice(0, 9).join(' <- ')}`)
    t.true(inLibc.length >= 50, `${inLibc.length} of ${samples.length} samples in libc's read`)
    t.is(reached.length, inLibc.length, 'every one: read <- uv__fs_work <- … <- readsThroughLibc')
    t.is(fpSkips.length, inLibc.length, 'the frame-pointer chain never has the wrapper\'s caller')
  })
})

testUnless(process.arch === 'arm64' ? 'the hand-built chain is the x86-64 layout (on arm64 LR holds the first return address); arm64 chains are covered by the real samples' : '')('frame-pointer fallback where no module has unwind data: a hand-built chain is followed exactly, bounded by maxFrames', (t) => {
  // Addresses below 64 KiB are in no mapping of any process: frame pointers only.
  const sp = 0x10000n
  const n = 40
  const stack = Buffer.alloc(8 * 2 * n)
  for (let i = 0; i < n; i++) {
    const bp = sp + BigInt(16 * i)
    stack.writeBigUInt64LE(i === n - 1 ? 0n : bp + 16n, 16 * i) // saved frame pointer: the next frame
    stack.writeBigUInt64LE(BigInt(0x1000 + i), 16 * i + 8) // return address
  }
  const u = new StackUnwinder(process.pid)
  const regs = (ip: bigint) => ({ abi: 64, values: [sp, sp, ip] })
  const r = u.unwind({ userRegs: regs(0x900n), userStack: stack })
  t.deepEqual([...r.frames], [0x900n, ...Array.from({ length: n }, (_, i) => BigInt(0x1000 + i))])
  t.is(r.end, 'root')
  const capped = new StackUnwinder(process.pid, { maxFrames: 10 }).unwind({ userRegs: regs(0x900n), userStack: stack })
  t.is(capped.frames.length, 10)
  t.is(capped.end, 'maxFrames')
  // The last frame's link cut off: the chain stops at the copied bytes.
  const short = u.unwind({ userRegs: regs(0x900n), userStack: stack.subarray(0, 16 * 5 + 8) })
  t.is(short.end, 'truncated')
  t.deepEqual([...short.frames], [0x900n, 0x1000n, 0x1001n, 0x1002n, 0x1003n, 0x1004n])
})

test('hostile input: bad pids, missing fields, wrong masks, empty, cyclic and random stacks give clear errors or short chains, and no fd is left open', (t) => {
  const fds = openFds()
  t.throws(() => new StackUnwinder(0), { instanceOf: RangeError, message: /pid/ })
  t.throws(() => new StackUnwinder(-1), { instanceOf: RangeError })
  t.throws(() => new StackUnwinder(1.5), { instanceOf: RangeError })
  t.throws(() => new StackUnwinder(process.pid, { maxFrames: 0 }), { instanceOf: RangeError, message: /maxFrames/ })
  // A pid above pid_max never exists.
  const gone = t.throws(() => new StackUnwinder(0x7ffffff0), { instanceOf: PerfEventError })
  t.is(gone?.code, 'ESRCH')
  t.truthy(gone?.hint)
  const u = new StackUnwinder(process.pid)
  const values = [0x7000n, 0x7000n, 0x1234n]
  t.throws(() => u.unwind({ userStack: Buffer.alloc(8) }), { instanceOf: TypeError, message: /userRegs/ })
  t.throws(() => u.unwind({ userRegs: { abi: 64, values } }), { instanceOf: TypeError, message: /userStack/ })
  t.throws(() => u.unwind({ userRegs: { abi: 32, values }, userStack: Buffer.alloc(8) }), { instanceOf: RangeError, message: /64-bit/ })
  t.throws(() => u.unwind({ userRegs: { abi: 64, values }, userStack: Buffer.alloc(8) }, 0x3n), { instanceOf: RangeError, message: /UNWIND_REGS_MASK/ })
  t.throws(() => u.unwind({ userRegs: { abi: 64, values: [1n] }, userStack: Buffer.alloc(8) }), { instanceOf: RangeError, message: /regs has 1 values/ })
  t.throws(() => u.unwindRaw(1n << 70n, new BigUint64Array(3), Buffer.alloc(0)), { instanceOf: RangeError })
  // A kernel thread's sample (abi 0): no user stack.
  t.deepEqual(u.unwind({ userRegs: { abi: 0, values: [] }, userStack: Buffer.alloc(0) }).frames.length, 0)
  if (process.arch === 'x64') {
    t.deepEqual([...u.unwind({ userRegs: { abi: 64, values }, userStack: Buffer.alloc(0) }).frames], [0x1234n])
    // A frame pointer that points at itself: the unwinder refuses to go back down the stack.
    const cyclic = Buffer.alloc(64)
    cyclic.writeBigUInt64LE(0x7000n, 0)
    cyclic.writeBigUInt64LE(0x1111n, 8)
    const r = u.unwind({ userRegs: { abi: 64, values: [0x7000n, 0x7000n, 0x1234n] }, userStack: cyclic })
    t.true(r.frames.length <= 3, `${r.frames.length} frames`)
  }
  // Random bytes and registers, including addresses inside this process's code: bounded, no crash.
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed)
  const code = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => / ..x. /.test(l))
    .map((l) => BigInt(`0x${l.split('-')[0]}`))
  for (let i = 0; i < 300; i++) {
    const stack = Buffer.alloc(8 * (rnd() % 512))
    for (let k = 0; k + 8 <= stack.length; k += 8) stack.writeBigUInt64LE(k % 16 === 8 ? code[rnd() % code.length] + BigInt(rnd() % 65536) : 0x7000n + BigInt(rnd() % 4096), k)
    const regs = Array.from({ length: Number(UNWIND_REGS_MASK.toString(2).split('1').length - 1) }, () => (rnd() % 2 ? 0x7000n : code[rnd() % code.length] + BigInt(rnd() % 4096)))
    const r = u.unwind({ userRegs: { abi: 64, values: regs }, userStack: stack })
    t.true(r.frames.length >= 1 && r.frames.length <= 512)
  }
  t.is(openFds(), fds, 'every file opened to read unwind sections is closed')
})
