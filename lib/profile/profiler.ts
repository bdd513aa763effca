import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs'
import { cpus } from 'node:os'
import { basename } from 'node:path'
import { binding } from '../loading/binding'
import { Counter } from '../handles/counter'
import { PerfEventError, rangeError, typeError } from '../errors/errors'
import { isClockEvent, resolveEvent, unitOf, type EventInput } from '../events/events'
import type { CounterOptions } from '../events/options'
import type { PerfRecord, Sampler } from '../handles/sampler'
import { Profile, ProfileBuilder, type Frame, type FrameKind, type LostSamples } from './model'
import { symbolizer, type SymbolizedAddr } from './symbolizer'
import { perfMapPath } from './perfmap'
import { procMaps, userSymbolizer, type MmapRec, type UserSymbolizer } from './usersyms'
import { ELECTRON_PERF_MAP_HINT, electronPerfMapFlags, isElectron } from '../loading/electron'

/**
 * Options of `profile()` and `new Profiler()`. `freq` and `period` exclude each other: giving both is
 * a type error (and a TypeError at run time).
 */
export type ProfileOptions = ProfileOptionsBase &
  (
    | {
        /** Samples per second (default 999 for clocks and hardware events). Above `kernel.perf_event_max_sample_rate` the kernel refuses. */
        freq?: number
        /** Not with `freq`. */
        period?: never
      }
    | {
        /** One sample every `period` events (default 1 for other software events and tracepoints). */
        period?: number
        /** Not with `period`. */
        freq?: never
      }
  )

/** The options of `ProfileOptions` other than the rate (`freq` or `period`). */
export interface ProfileOptionsBase {
  /** Any event the package accepts (`'cpu-clock'`, `'page-faults'`, `'syscalls:sys_enter_write'`, `'cycles'`…). Default `'cpu-clock'`. */
  event?: EventInput
  /**
   * `'thread'`: the calling JS thread (default). `'process'`: every thread of this process — the
   * libuv pool, workers, V8's helpers — including threads started later (inherited), with one event
   * per thread per CPU redirected into one ring per CPU (as `perf record -p`): threads at start × CPUs fds.
   */
  scope?: 'thread' | 'process'
  /**
   * Kernel frames in stacks. Default: on where allowed (root, CAP_PERFMON, or perf_event_paranoid <= 1),
   * else off with the reason in `profile.warnings`.
   */
  kernel?: boolean
  /**
   * Ring size as an exponent: 2^ringExp data pages, 0 to 16 (like `counter.sampler(exp)`).
   * Default: from the rate (about 2 s of samples, 2^4 to 2^10 pages).
   */
  ringExp?: number
  /** Frames a stack keeps at most (default 127). */
  maxStackFrames?: number
  /**
   * With `scope: 'process'`: another running process (all its threads, and threads it starts later)
   * instead of this one. Needs the permission to trace it (same user, or CAP_PERFMON / root).
   * It is symbolized while it still runs; if it exits before stop(), from the mappings it had
   * (`/proc/<pid>/maps` at start, mmap records after) and its perf map file, with a warning.
   */
  pid?: number
}

const DEFAULT_FREQ = 999
/** Drain intervals (ms): with `freq` (a bounded rate), and with `period` (any rate). */
const FREQ_DRAIN_MS = 200
const PERIOD_DRAIN_MS = 50
/** Bytes of one sample record beyond the call chain: header, tid, time, period, chain length, context markers. */
const SAMPLE_BYTES = 64
let warnedPerfMap = false

function paranoid(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim())
  } catch {
    return 2
  }
}

/** CAP_PERFMON (38) or CAP_SYS_ADMIN (21) in the effective set. */
function privileged(): boolean {
  if (process.getuid?.() === 0) return true
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (!m) return false
    const caps = BigInt(`0x${m[1]}`)
    return ((caps >> 38n) & 1n) === 1n || ((caps >> 21n) & 1n) === 1n
  } catch {
    return false
  }
}

/** Whether a directory entry exists at `path` (a dangling symlink too), without following or opening it. */
function present(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined
}

/** The effective uid of process `pid` (`Uid:` in its status), or this process's when it cannot be read. */
function effectiveUid(pid: number): number {
  try {
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    if (m) return Number(m[1])
  } catch {
    // gone
  }
  return process.geteuid?.() ?? 0
}

/** Whether this Node writes V8's perf map (`--perf-basic-prof` on the command line or in NODE_OPTIONS). */
export function perfMapEnabled(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  return flags.some((f) => f === '--perf-basic-prof' || f === '--perf-basic-prof-only-functions' || f === '--perf-prof') || (isElectron() && electronPerfMapFlags())
}

const PERF_MAP_HINT =
  'JS functions are unnamed: start Node with --perf-basic-prof (node --perf-basic-prof app.js, or NODE_OPTIONS=--perf-basic-prof) so V8 writes /tmp/perf-<pid>.map; ' +
  'add --interpreted-frames-native-stack to name interpreted frames too. V8 cannot turn the map on at run time.'

/** A thread's name; for a thread that has ended, its process's (threads inherit it). */
function threadName(pid: number, tid: number): string {
  for (const path of [`/proc/${pid}/task/${tid}/comm`, `/proc/${pid}/comm`]) {
    try {
      return readFileSync(path, 'utf8').trim()
    } catch {
      // ended
    }
  }
  return `thread ${tid}`
}

/** CPUs online now (`/sys/devices/system/cpu/online`, e.g. `0-3,6`). */
function onlineCpus(): number[] {
  try {
    const out: number[] = []
    for (const part of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
      const [a, b] = part.split('-').map(Number)
      for (let c = a; c <= (b ?? a); c++) out.push(c)
    }
    return out
  } catch {
    return [...Array(cpus().length).keys()]
  }
}

/**
 * What a thread is, from its stacks, where its name is only the process's (Node names none of its
 * threads): the JS main thread, a libuv pool thread, a worker_threads Worker, a V8 platform thread.
 */
const ROLES: [RegExp, string][] = [
  [/^node::worker::Worker::/, 'Worker'],
  [/^uv__queue_work|^uv__fs_work|^worker$|uv__threadpool/, 'libuv pool'],
  [/PlatformWorkerThread|WorkerThreadsTaskRunner/, 'V8 platform'],
  [/^node::inspector::/, 'inspector'],
]

/** PERF_CONTEXT_* markers as the high and low 32-bit words of the u64 (all start with 0xffffffff). */
const CTX_KERNEL = 0xffffff80 // PERF_CONTEXT_KERNEL (-128)
const CTX_USER = 0xfffffe00 // PERF_CONTEXT_USER (-512)
const CTX_USER_DEFERRED = 0xfffffd80 // PERF_CONTEXT_USER_DEFERRED (-640): left to the native conversion
/** Words at or above this low word (with a high word of 0xffffffff) are markers (>= -4095). */
const MARKER_MIN_LO = 0xfffff001
const TWO32 = 2 ** 32

/** One distinct call chain of one process: its raw words (markers included) and its interned address ids. */
interface ChainEntry {
  pid: number
  words: Uint32Array
  ids: Int32Array
  nUser: number
  /** Holds a deferred-user marker: such samples go through `at(i)` (the native conversion). */
  deferred: boolean
  next: ChainEntry | undefined
}

/**
 * Samples as they are drained, with their call chains interned at once: each distinct chain (per
 * process) is split and its addresses interned once (ids per process, return addresses looked up
 * at ip - 1); a sample keeps its thread, time, period and a reference to its chain's shared ids.
 */
export class SampleStore {
  readonly userIdx = new Map<number, Map<bigint, number>>()
  readonly kernIdx = new Map<bigint, number>()
  readonly tid: number[] = []
  readonly pid: number[] = []
  /** ns since the first sample. */
  readonly time: number[] = []
  readonly period: number[] = []
  /** Address ids, user part (leaf first) then kernel part (leaf first); `nUser[i]` user ids. Shared by the samples of one chain. */
  readonly ids: Int32Array[] = []
  readonly nUser: number[] = []
  /** The first sample's time as two 32-bit words (exact differences without bigints). */
  #t0hi = -1
  #t0lo = 0
  /** Distinct chains by hash (a linked list per hash). */
  readonly #chains = new Map<number, ChainEntry>()

  get length(): number {
    return this.tid.length
  }

  static #intern(m: Map<bigint, number>, ips: bigint[], out: Int32Array, at: number): void {
    for (let i = 0; i < ips.length; i++) {
      // Return addresses point after the call: look up ip - 1 for every frame but the leaf.
      const a = i === 0 ? ips[i] : ips[i] - 1n
      let id = m.get(a)
      if (id === undefined) m.set(a, (id = m.size))
      out[at + i] = id
    }
  }

  #push(tid: number, pid: number, time: number, period: number, ids: Int32Array, nUser: number): void {
    this.tid.push(tid)
    this.pid.push(pid)
    this.time.push(time)
    this.period.push(period)
    this.ids.push(ids)
    this.nUser.push(nUser)
  }

  /** Adds a sample from its split call chain (the last user and last kernel segment, leaf first). */
  add(tid: number, pid: number, time: bigint, period: number, user: bigint[] | undefined, kernel: bigint[] | undefined): void {
    this.#push(tid, pid, this.#since(Number(time >> 32n) >>> 0, Number(time & 0xffffffffn) >>> 0), period, ...this.#split(pid, user, kernel))
  }

  #split(pid: number, user: bigint[] | undefined, kernel: bigint[] | undefined): [Int32Array, number] {
    const nu = user?.length ?? 0
    const out = new Int32Array(nu + (kernel?.length ?? 0))
    if (user) {
      let m = this.userIdx.get(pid)
      if (!m) this.userIdx.set(pid, (m = new Map()))
      SampleStore.#intern(m, user, out, 0)
    }
    if (kernel) SampleStore.#intern(this.kernIdx, kernel, out, nu)
    return [out, nu]
  }

  /** ns since the first sample, from a time's high and low words. */
  #since(hi: number, lo: number): number {
    if (this.#t0hi < 0) {
      this.#t0hi = hi
      this.#t0lo = lo
    }
    return (hi - this.#t0hi) * TWO32 + (lo - this.#t0lo)
  }

  /**
   * Adds a sample from the raw chain words `w[at .. at + 2 * n)` (little-endian u64 pairs, as in a
   * batch's `callChain(i)`), without a bigint per address unless the chain is new.
   * `time` as (high, low) words. False (nothing added) for a chain with a deferred-user marker.
   */
  addRaw(tid: number, pid: number, timeHi: number, timeLo: number, period: number, w: Uint32Array, at: number, n: number): boolean {
    const end = at + 2 * n
    let h = pid | 0
    for (let k = at; k < end; k++) h = Math.imul(h ^ w[k], 0x01000193)
    h = (h ^ n) >>> 0
    let e = this.#chains.get(h)
    for (; e !== undefined; e = e.next) {
      if (e.pid !== pid || e.words.length !== end - at) continue
      const ew = e.words
      let k = 0
      while (k < ew.length && ew[k] === w[at + k]) k++
      if (k === ew.length) break
    }
    if (e === undefined) {
      e = this.#newChain(pid, w.slice(at, end))
      e.next = this.#chains.get(h)
      this.#chains.set(h, e)
    }
    if (e.deferred) return false
    this.#push(tid, pid, this.#since(timeHi, timeLo), period, e.ids, e.nUser)
    return true
  }

  /** Splits a new chain as `drain()` does: each marker starts a segment; the last user and kernel segments count. */
  #newChain(pid: number, words: Uint32Array): ChainEntry {
    let user: bigint[] | undefined
    let kernel: bigint[] | undefined
    let seg: bigint[] | undefined
    for (let k = 0; k < words.length; k += 2) {
      const lo = words[k]
      const hi = words[k + 1]
      if (hi === 0xffffffff && lo >= MARKER_MIN_LO) {
        if (lo === CTX_USER_DEFERRED) return { pid, words, ids: new Int32Array(0), nUser: 0, deferred: true, next: undefined }
        seg = []
        if (lo === CTX_USER) user = seg
        else if (lo === CTX_KERNEL) kernel = seg
      } else if (seg) seg.push((BigInt(hi) << 32n) | BigInt(lo))
    }
    const [ids, nUser] = this.#split(pid, user, kernel)
    return { pid, words, ids, nUser, deferred: false, next: undefined }
  }
}


/** An optional integer option: TypeError for another type or a fraction, RangeError outside [min, max]. */
function checkInt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(`an integer from ${min} to ${max}`, name, v)
  if (v < min || v > max) throw rangeError(`an integer from ${min} to ${max}`, name, v)
  return v
}

/**
 * Samples call chains of one event and turns them into a symbolized `Profile`.
 *
 * ```ts
 * const p = new Profiler({ event: 'page-faults' })
 * p.start(); work(); const profile = await p.stop()
 * console.log(profile.top(10).table)
 * ```
 */
export class Profiler {
  readonly #event: EventInput
  readonly #label: string
  readonly #unit: string
  readonly #freq: number | undefined
  readonly #period: number | undefined
  readonly #kernel: boolean
  readonly #exp: number
  /** Whether the user chose the ring size (then it is never reduced). */
  readonly #expChosen: boolean
  /** The ring size in use (reduced where the memlock limit refuses `#exp`). */
  #ringExp = 0
  readonly #maxFrames: number
  readonly #warnings: string[] = []
  /** Warnings of the current run. */
  #runWarnings: string[] = []
  readonly #scope: 'thread' | 'process'
  /** The profiled process. */
  readonly #pid: number
  #counters: Counter[] = []
  #samplers: Sampler[] = []
  #timer: NodeJS.Timeout | undefined
  #store = new SampleStore()
  #lostRecords = 0
  #comms = new Map<number, string>()
  /** Child mode: the pid of the command, and its executable mappings (from mmap records) by pid. */
  #child: number | undefined
  #mmaps = new Map<number, MmapRec[]>()
  /** The profiled process's effective uid (whose perf map files are accepted). */
  #targetUid = process.geteuid?.() ?? 0
  #start = 0
  #lostFormat = false
  /** A 32-bit view of the sampler columns' buffer (rebuilt when a sampler's columns grow). */
  #chainBuf: ArrayBufferLike | undefined
  #chainWords: Uint32Array | undefined

  constructor(options: ProfileOptions = {}) {
    if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
    const known = new Set(['event', 'freq', 'period', 'scope', 'kernel', 'ringExp', 'maxStackFrames', 'pid'])
    for (const k of Object.keys(options)) if (!known.has(k)) throw typeError(`one of ${[...known].join(', ')}`, 'options key', k)
    this.#event = options.event ?? 'cpu-clock'
    const ev = resolveEvent(this.#event)
    this.#label = ev.label
    const isClock = isClockEvent(ev.native)
    this.#unit = unitOf(ev)
    if (options.scope !== undefined && options.scope !== 'thread' && options.scope !== 'process')
      throw typeError("'thread' or 'process'", 'options.scope', options.scope)
    this.#scope = options.scope ?? 'thread'
    const pid = checkInt(options.pid, 'options.pid', 1, 0x7fffffff)
    if (pid !== undefined && this.#scope !== 'process') throw new TypeError(`Expected scope: 'process' with options.pid but received scope: '${this.#scope}'`)
    this.#pid = pid ?? process.pid
    const freq = checkInt(options.freq, 'options.freq', 1, 1_000_000)
    const period = checkInt(options.period, 'options.period', 1, Number.MAX_SAFE_INTEGER)
    if (freq !== undefined && period !== undefined) throw new TypeError('Expected one of options.freq or options.period but received both')
    const timeBased = isClock || ev.native.type === 'hardware' || ev.native.type === 'hwCache' || ev.native.type === 'raw' || ev.native.type === 'dynamic'
    if (freq === undefined && period === undefined) {
      if (timeBased) this.#freq = DEFAULT_FREQ
      else this.#period = 1
    } else {
      this.#freq = freq
      this.#period = period
    }
    this.#maxFrames = checkInt(options.maxStackFrames, 'options.maxStackFrames', 1, 0xffff) ?? 127
    if (options.kernel !== undefined && typeof options.kernel !== 'boolean') throw typeError('a boolean', 'options.kernel', options.kernel)
    const allowed = privileged() || paranoid() <= 1
    if (options.kernel === undefined) {
      this.#kernel = allowed
      if (!allowed)
        this.#warnings.push(
          `Kernel frames are off: kernel.perf_event_paranoid is ${paranoid()} (kernel stacks need <= 1, root or CAP_PERFMON). Run sudo sysctl kernel.perf_event_paranoid=1 to include them.`,
        )
    } else this.#kernel = options.kernel
    const ringExp = checkInt(options.ringExp, 'options.ringExp (an exponent: 2^ringExp pages)', 0, 16)
    this.#expChosen = ringExp !== undefined
    if (ringExp !== undefined) this.#exp = ringExp
    else {
      const rate = this.#freq ?? 1000
      const bytes = rate * 2 * (SAMPLE_BYTES + 8 * Math.min(this.#maxFrames, 64))
      this.#exp = Math.min(10, Math.max(4, Math.ceil(Math.log2(bytes / 4096))))
    }
  }

  /** Whether sampling is on. */
  get running(): boolean {
    return this.#counters.length > 0
  }

  /** Opens the event (on this thread, or on every thread of the process) and starts sampling. */
  start(): void {
    this.#notRunning()
    const other = this.#pid !== process.pid
    // Another process: its executable mappings too (the ones it has now from /proc/<pid>/maps, later
    // ones from mmap records), so that it can still be symbolized if it exits before stop().
    const opts = this.#options({ extraRecord: other ? { comm: true, mmap: { code: true } } : { comm: true } })
    this.#reset(other ? new Map([[this.#pid, procMaps(this.#pid)]]) : new Map())
    this.#targetUid = other ? effectiveUid(this.#pid) : (process.geteuid?.() ?? 0)
    this.#openAll(() => {
      if (this.#scope === 'thread') this.#add(this.#open(undefined, opts))
      else this.#openProcess(opts)
    })
    for (const c of this.#counters) c.enable()
  }

  #notRunning(): void {
    if (this.running) throw new PerfEventError('The profiler is already running', 'ERR_PROFILER_RUNNING', { hint: 'Call stop() first: a profiler runs once at a time.' })
  }

  /** The sampling options every run shares, with `extra` (records, inheritance) added. */
  #options(extra: CounterOptions): CounterOptions {
    return {
      sampleOn: this.#freq !== undefined ? { freq: this.#freq } : { count: this.#period! },
      // PERF_SAMPLE_PERIOD only in freq mode: with it, the kernel samples software events on every event
      // whatever the period (perf_swevent_event); in count mode every sample weighs `period`.
      sampleFormat: { period: this.#freq !== undefined, callChain: { excludeKernel: !this.#kernel, maxStackFrames: this.#maxFrames } },
      recordIdFormat: { task: true, time: true },
      // Kernel frames asked for: explicit, so that a refusal is an error, not a silent user-space-only fallback (lib/handles/userspace.ts).
      exclude: this.#kernel ? { kernel: false } : { kernel: true, hv: true },
      statFormat: { lostRecords: true },
      ...extra,
    }
  }

  /** Fresh state for a run. */
  #reset(mmaps: Map<number, MmapRec[]>): void {
    this.#store = new SampleStore()
    this.#lostRecords = 0
    this.#lostFormat = true
    this.#ringExp = 0
    this.#runWarnings = []
    this.#mmaps = mmaps
  }

  #add(c: Counter): void {
    this.#counters.push(c)
    this.#samplers.push(this.#ring(c))
  }

  /** Runs `open` (all or nothing: a failure closes what it opened), then starts the clock and the drain timer. */
  #openAll(open: () => void): void {
    try {
      open()
    } catch (e) {
      this.#closeAll()
      throw e
    }
    this.#start = Date.now()
    // Drains while the event loop turns (async work); a long synchronous stretch relies on the ring's size.
    // Fewer, larger drains cost less: at a frequency (a bounded rate), every 200 ms or when the ring
    // is about 1/8 full at that rate if sooner; every 50 ms for one sample per `period` events (any rate).
    this.#timer = setInterval(() => this.#drain(), this.#drainMs())
    this.#timer.unref()
  }

  /** The drain interval (ms) for the ring in use. */
  #drainMs(): number {
    if (this.#freq === undefined) return PERIOD_DRAIN_MS
    const ringBytes = 4096 * 2 ** this.#ringExp
    const perSecond = this.#freq * (SAMPLE_BYTES + 8 * Math.min(this.#maxFrames, 64))
    return Math.max(10, Math.min(FREQ_DRAIN_MS, Math.floor((1000 * ringBytes) / perSecond / 8)))
  }

  /**
   * @internal `profileCommand`: opens one event per CPU on `pid` (stopped before its exec), enabled by
   * the kernel at exec and inherited by its threads and children, with mmap records for symbolizing
   * it after it exits.
   */
  attachChild(pid: number): void {
    this.#notRunning()
    const opts = this.#options({ recordIdAll: true, extraRecord: { comm: true, mmap: { code: true } }, inherit: 'newChild', onExecve: 'enable' })
    this.#reset(new Map())
    this.#targetUid = process.geteuid?.() ?? 0
    this.#child = pid
    this.#openAll(() => {
      for (const cpu of onlineCpus()) this.#add(this.#open({ pid, cpu }, opts))
    })
  }

  /** Opens one event; without PERF_FORMAT_LOST (Linux 6.0) where the kernel or the build lacks it. */
  #open(target: { pid: number; cpu: number } | undefined, opts: CounterOptions): Counter {
    if (this.#lostFormat) {
      try {
        return new Counter(this.#event, target, opts)
      } catch (e) {
        if (!(e instanceof PerfEventError) || !['EINVAL', 'ERR_UNSUPPORTED_BY_BUILD'].includes(e.code)) throw e
        this.#lostFormat = false
      }
    }
    return new Counter(this.#event, target, { ...opts, statFormat: undefined })
  }

  /** One event per thread per CPU, inherited by later threads; per CPU, all redirected into one ring. */
  #openProcess(opts: CounterOptions): void {
    const cpus = onlineCpus()
    const pid = this.#pid
    let tids: number[]
    try {
      tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => (a === pid ? -1 : b === pid ? 1 : a - b))
    } catch {
      throw new PerfEventError(`No process ${pid}`, 'ESRCH', { syscall: 'open', hint: 'Give the pid of a running process (options.pid).' })
    }
    let inherit: 'newThread' | 'newChild' = 'newThread'
    const setOutput = binding().setOutput
    for (const cpu of cpus) {
      let ring: Counter | undefined
      for (const tid of tids) {
        let c: Counter
        try {
          c = this.#open({ pid: tid, cpu }, { ...opts, inherit })
        } catch (e) {
          // inherit_thread needs Linux 5.13: inherit to every child instead.
          if (e instanceof PerfEventError && inherit === 'newThread' && ['EINVAL', 'ERR_UNSUPPORTED_BY_BUILD'].includes(e.code)) {
            inherit = 'newChild'
            c = this.#open({ pid: tid, cpu }, { ...opts, inherit })
          } else if (e instanceof PerfEventError && e.code === 'ESRCH') continue // the thread ended meanwhile
          else throw e
        }
        this.#counters.push(c)
        if (!ring) {
          ring = c
          this.#samplers.push(this.#ring(c))
        } else setOutput(c.fd, ring.fd)
      }
    }
  }

  /**
   * Maps the ring of `c`: 2^exp pages, halved while the memlock limit (perf_event_mlock_kb,
   * RLIMIT_MEMLOCK) refuses it, unless the user chose the size; said in `warnings`.
   */
  #ring(c: Counter): Sampler {
    let exp = this.#ringExp || this.#exp
    for (;;) {
      try {
        const s = c.sampler(exp)
        if (exp < this.#exp && this.#ringExp !== exp)
          this.#runWarnings.push(`The ring was reduced from 2^${this.#exp} to 2^${exp} pages by the memlock limit (kernel.perf_event_mlock_kb, ulimit -l): raise it, or await between chunks of work, to lose fewer samples.`)
        this.#ringExp = exp
        return s
      } catch (e) {
        if (this.#expChosen || exp <= 2 || !(e instanceof PerfEventError) || !['EPERM', 'ENOMEM'].includes(e.code)) throw e
        exp--
      }
    }
  }

  #closeAll(): void {
    for (const s of this.#samplers) s.close()
    for (const c of this.#counters) c.close()
    this.#samplers = []
    this.#counters = []
  }

  #drain(): void {
    for (const s of this.#samplers) this.#drainOne(s)
  }

  #drainOne(s: Sampler): void {
    const b = s.batch()
    const n = b.length
    if (n === 0) return
    const type = b.type
    const tid = b.tid
    const pid = b.pid
    // The u64 columns as 32-bit words: no bigint per sample.
    const time = new Uint32Array(b.time.buffer, b.time.byteOffset, 2 * n)
    const period = new Uint32Array(b.period.buffer, b.period.byteOffset, 2 * n)
    const fixed = this.#period ?? 1
    const sampled = this.#freq !== undefined
    for (let i = 0; i < n; i++) {
      if (type[i] === 9) {
        const chain = b.callChain(i)
        if (chain.buffer !== this.#chainBuf) {
          this.#chainBuf = chain.buffer
          this.#chainWords = new Uint32Array(chain.buffer, 0, chain.buffer.byteLength >>> 2)
        }
        const p = sampled ? period[2 * i + 1] * TWO32 + period[2 * i] : fixed
        if (this.#store.addRaw(tid[i], pid[i], time[2 * i + 1], time[2 * i], p, this.#chainWords!, chain.byteOffset >>> 2, chain.length)) continue
      }
      this.#record(b.at(i) as PerfRecord)
    }
  }

  /** A record the columns do not cover (or a sample whose chain the native conversion stitches). */
  #record(r: PerfRecord): void {
    if (r.type === 'sample') {
      const task = r.recordId.task
      let kernel: bigint[] | undefined
      let user: bigint[] | undefined
      for (const c of r.callChain ?? []) {
        if (c.context === 'kernel') kernel = c.ips
        else if (c.context === 'user') user = c.ips
      }
      this.#store.add(task?.tid ?? 0, task?.pid ?? process.pid, r.recordId.time ?? 0n, r.period !== undefined ? Number(r.period) : (this.#period ?? 1), user, kernel)
    } else if (r.type === 'lostRecords') this.#lostRecords += Number(r.lostRecords)
    else if (r.type === 'comm') this.#comms.set(r.task.tid, r.comm)
    else if (r.type === 'mmap' && r.executable) {
      let list = this.#mmaps.get(r.task.pid)
      if (!list) this.#mmaps.set(r.task.pid, (list = []))
      list.push({ addr: r.addr, end: r.addr + r.len, pageOffset: r.pageOffset, file: r.file })
    }
  }

  /**
   * The one user-space symbolizer of every kind of run (live or exited target, command): perf maps
   * are accepted from the target's user, this process's user, or root.
   */
  #userSymbolizer(warnings: string[], perfMap: (pid: number) => boolean): UserSymbolizer {
    const uids = [...new Set([this.#targetUid, process.geteuid?.() ?? 0])]
    return userSymbolizer({ mmaps: this.#mmaps, uids: () => uids, warnings, perfMap })
  }

  /** Stops sampling, symbolizes (off the JS thread) and returns the profile. */
  async stop(): Promise<Profile> {
    if (!this.running) throw new PerfEventError('The profiler is not running', 'ERR_PROFILER_NOT_RUNNING', { hint: 'Call start() first.' })
    for (const c of this.#counters) c.disable()
    clearInterval(this.#timer)
    this.#drain()
    let lost: LostSamples
    if (this.#lostFormat) {
      let n = 0
      for (const c of this.#counters) n += Number(c.stat().lostRecords ?? 0n)
      lost = { count: n, source: 'PERF_FORMAT_LOST', records: this.#lostRecords }
    } else lost = { count: this.#lostRecords, source: 'PERF_RECORD_LOST', records: this.#lostRecords }
    const fds = this.#counters.length
    this.#closeAll()
    const end = Date.now()
    const warnings = [...this.#warnings, ...this.#runWarnings]
    if (lost.count > 0)
      warnings.push(`${lost.count} samples lost: the ring (2^${this.#ringExp} pages) filled before it was drained. Use a larger ringExp (2^ringExp pages), a lower freq, or await between chunks of work.`)
    const child = this.#child
    this.#child = undefined
    if (child !== undefined) {
      const raw = this.#store
      this.#store = new SampleStore()
      const pids = new Set(raw.pid)
      const noMap = [...pids].filter((pid) => !present(perfMapPath(pid)))
      if (noMap.length)
        warnings.push(
          `No V8 perf map for pid ${noMap.join(', ')}: JIT frames of a Node command are unnamed unless it runs with --perf-basic-prof (e.g. profileCommand(process.execPath, ['--perf-basic-prof', 'app.js'])).`,
        )
      const builder = await buildProfile(raw, this.#userSymbolizer(warnings, () => true), this.#comms)
      return new Profile(
        builder,
        { event: this.#label, unit: this.#unit, freq: this.#freq, period: this.#period, kernel: this.#kernel, scope: 'command', fds, pid: child, startTime: this.#start, endTime: end },
        lost,
        warnings,
      )
    }
    const own = this.#pid === process.pid
    if (!own && !existsSync(`/proc/${this.#pid}/maps`)) {
      // It exited before stop(): symbolized like a command, from its mappings and its perf map file.
      warnings.push(`Process ${this.#pid} exited before stop(): symbolized from its mappings and its perf map file, as profileCommand does.`)
      if (!present(perfMapPath(this.#pid))) warnings.push(`No V8 perf map for pid ${this.#pid}: if it is a Node program, JS frames get names when it runs with --perf-basic-prof.`)
      const raw = this.#store
      this.#store = new SampleStore()
      const builder = await buildProfile(raw, this.#userSymbolizer(warnings, () => true), this.#comms)
      return new Profile(
        builder,
        { event: this.#label, unit: this.#unit, freq: this.#freq, period: this.#period, kernel: this.#kernel, scope: this.#scope, fds, pid: this.#pid, startTime: this.#start, endTime: end },
        lost,
        warnings,
      )
    }
    const hasMap = (!own || perfMapEnabled()) && present(perfMapPath(this.#pid))
    if (!hasMap && !own) warnings.push(`No V8 perf map for pid ${this.#pid}: if it is a Node program, JS frames get names when it runs with --perf-basic-prof.`)
    if (!hasMap && own) {
      // Electron takes V8 flags through --js-flags, not node's command line (lib/loading/electron.ts).
      const hint = isElectron() ? ELECTRON_PERF_MAP_HINT : PERF_MAP_HINT
      warnings.push(hint)
      if (!warnedPerfMap) {
        warnedPerfMap = true
        process.emitWarning(hint, { code: 'PERF_EVENT_OPEN_NO_PERF_MAP' })
      }
    }
    const raw = this.#store
    this.#store = new SampleStore()
    const builder = await buildProfile(raw, this.#userSymbolizer(warnings, () => hasMap), this.#comms)
    return new Profile(
      builder,
      { event: this.#label, unit: this.#unit, freq: this.#freq, period: this.#period, kernel: this.#kernel, scope: this.#scope, fds, pid: this.#pid, startTime: this.#start, endTime: end },
      lost,
      warnings,
    )
  }
}

/** V8 perf map entries: `JS:*name file:line:col` (also `Eval:`, `Script:`, and `LazyCompile:`/`Function:` of older V8). */
const JS_RE = /^(?:JS|Eval|Script|Function|LazyCompile|InterpretedFunction):([~^*+]?)(.*?)(?: (\S+):(\d+):(\d+))?$/
/** V8 code that is not a JS function: builtins, bytecode handlers, stubs, compiled regexps. */
const V8_CODE_RE = /^(?:Builtin|BytecodeHandler|Stub|RegExp|Handler|CodeStub|WasmFunction|Wasm):/

function toFrame(s: SymbolizedAddr | undefined, kernel: boolean, perfMapPath: string): Frame {
  if (!s || s.name === undefined) {
    const module = s?.module ?? (kernel ? '[kernel]' : undefined)
    const label = module ? `[unknown] ${basename(module)}` : '[unknown]'
    return { label, name: label, kind: kernel ? 'kernel' : 'unknown', module }
  }
  if (kernel) return { label: s.name, name: s.name, kind: 'kernel', module: '[kernel]' }
  // Symbols from V8's perf map come without a module (blazesym) and in V8's own notation.
  const m = s.module === undefined || s.module === perfMapPath ? JS_RE.exec(s.name) : null
  if (m) {
    const name = m[2] || '(anonymous)'
    return {
      label: s.name.slice(s.name.indexOf(':') + 1),
      name,
      kind: 'js',
      tier: m[1],
      module: perfMapPath,
      file: m[3],
      line: m[4] === undefined ? undefined : Number(m[4]),
      column: m[5] === undefined ? undefined : Number(m[5]),
    }
  }
  if ((s.module === undefined || s.module === perfMapPath) && V8_CODE_RE.test(s.name)) return { label: s.name, name: s.name, kind: 'builtin', module: perfMapPath }
  const kind: FrameKind = 'native'
  return { label: s.name, name: s.name, kind, module: s.module, file: s.file, line: s.line, column: s.column }
}

/**
 * Adds each thread's role (main, libuv pool, Worker, V8 platform) to its name, from the frames of its
 * samples. Every sample counts (a thread's first ones may be cut short, e.g. inside assembly without
 * frame pointers); each stack node is looked at once: its role is its frame's, or its parent's.
 */
function nameThreads(b: ProfileBuilder): void {
  const role = new Map<number, string>()
  // undefined: not looked at yet; null: no role on the path to the root.
  const stackRole: (string | null | undefined)[] = []
  const roleOf = (leaf: number): string | null => {
    const path: number[] = []
    let s = leaf
    let found: string | null = null
    for (; s >= 0; s = b.stackParent[s]) {
      const known = stackRole[s]
      if (known !== undefined) {
        found = known
        break
      }
      path.push(s)
    }
    // The role nearest the leaf wins; nodes below it on the path get it too.
    for (let i = path.length - 1; i >= 0; i--) {
      const name = b.frames[b.stackFrame[path[i]]].name
      for (const [re, r] of ROLES) if (re.test(name)) found = r
      stackRole[path[i]] = found
    }
    return found
  }
  for (let i = 0; i < b.sampleStack.length; i++) {
    const t = b.sampleThread[i]
    if (role.has(t) || b.sampleStack[i] < 0) continue
    const r = roleOf(b.sampleStack[i])
    if (r !== null) role.set(t, r)
  }
  b.threads.forEach((t, i) => {
    const r = t.tid === t.pid ? 'main' : role.get(i)
    if (r) b.rename(i, `${t.name} (${r})`)
  })
}


/** Symbolizes raw samples (unique addresses once per process) and interns frames and stacks. */
export async function buildProfile(raw: SampleStore, userSymbolize: UserSymbolizer, comms: Map<number, string>): Promise<ProfileBuilder> {
  const { userIdx, kernIdx } = raw
  symbolizer() // a clear error when the addon is missing, even for an empty profile
  const pids = [...userIdx.keys()]
  const [kernSyms, ...userSyms] = await Promise.all([
    kernIdx.size ? symbolizer().symbolizeKernel(BigUint64Array.from(kernIdx.keys())) : Promise.resolve([]),
    ...pids.map((pid) => userSymbolize(pid, [...userIdx.get(pid)!.keys()])),
  ])
  const b = new ProfileBuilder()
  const userFrames = new Map<number, Int32Array>()
  pids.forEach((pid, k) => {
    const m = userIdx.get(pid)!
    const frames = new Int32Array(m.size)
    for (const [, i] of m) frames[i] = b.frame(toFrame(userSyms[k][i], false, perfMapPath(pid)))
    userFrames.set(pid, frames)
  })
  const kernFrames = new Int32Array(kernIdx.size)
  for (const [, i] of kernIdx) kernFrames[i] = b.frame(toFrame(kernSyms[i], true, ''))
  for (let k = 0; k < raw.length; k++) {
    const out = raw.ids[k]
    const nu = raw.nUser[k]
    const pid = raw.pid[k]
    const tid = raw.tid[k]
    let stack = -1
    if (nu) {
      const frames = userFrames.get(pid)!
      for (let i = nu - 1; i >= 0; i--) stack = b.stack(stack, frames[out[i]])
    }
    for (let i = out.length - 1; i >= nu; i--) stack = b.stack(stack, kernFrames[out[i]])
    const thread = b.thread(tid, pid, () => comms.get(tid) ?? threadName(pid, tid))
    b.sample(stack, thread, raw.time[k], raw.period[k])
  }
  nameThreads(b)
  return b
}

/**
 * Profiles `fn` (sync or async) on this thread and returns the symbolized profile.
 *
 * ```ts
 * const p = await profile(() => work(), { event: 'page-faults' })
 * console.log(p.top(10).table)
 * await p.write('work.pb.gz')
 * ```
 */
export async function profile(fn: () => unknown, options?: ProfileOptions): Promise<Profile> {
  if (typeof fn !== 'function') throw typeError('a function', 'fn', fn)
  const p = new Profiler(options)
  p.start()
  try {
    await fn()
  } catch (e) {
    await p.stop().catch(() => undefined)
    throw e
  }
  return p.stop()
}
