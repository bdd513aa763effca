/**
 * The `Profiler` (open the events, drain their rings while the event loop turns, stop and hand the
 * raw samples to `buildProfile`), and `profile(fn)` around it.
 */
// counter.ts loads handles/handle.ts, which defines Symbol.dispose where the runtime lacks it.
import { Counter } from '../handles/counter'
import { PerfEventError } from '../errors/errors'
import { PROFILER_CLOSED_HINT } from '../errors/hints'
import type { CounterOptions } from '../events/options'
import type { PerfRecord, Sampler } from '../handles/sampler'
import type { Profile } from './model'
import type { LostSamples } from './types'
import { profileSettings, SAMPLE_BYTES, type ProfileOptions, type ProfileSettings } from './options'
import { SampleStore, TWO32 } from './samples'
import { buildProfile } from './build'
import { procMaps, userSymbolizer, type MmapRec } from './usersyms'
import { mapRing, openOnProcess } from './rings'
import { UnseenKernelTime } from './unseen'
import { profileTarget } from './target'
import { onlineCpus } from '../system/kernel'
import { effectiveUid, euid } from '../system/privilege'

export type { ProfileOptions, ProfileOptionsBase } from './options'

/** Drain intervals (ms): with `freq` (a bounded rate), and with `period` (any rate); the shortest after losses. */
const FREQ_DRAIN_MS = 200
const PERIOD_DRAIN_MS = 50
const MIN_DRAIN_MS = 5
/** The largest ring a run that lost samples grows the next one's default to (2^13 pages: 32 MiB). */
const MAX_GROWN_EXP = 13

/**
 * Samples call chains of one event and turns them into a symbolized `Profile`.
 * `abort()` (or `using`, or `options.signal`) ends a run without a profile and releases everything.
 *
 * ```ts
 * const p = new Profiler({ event: 'page-faults' })
 * p.start(); work(); const profile = await p.stop()
 * console.log(profile.top(10).table)
 * ```
 */
export class Profiler implements Disposable {
  readonly #s: ProfileSettings
  /** The ring size in use (reduced where the memlock limit refuses `#s.exp`). */
  #ringExp = 0
  /** Added to the default ring exponent after a run (or a drain) that lost samples. */
  #expBoost = 0
  /** The drain interval in use (ms): halved, down to MIN_DRAIN_MS, when a drain finds lost records. */
  #drainEvery = 0
  /** Continuous: the window's start (ms since the epoch), the lost counts at the last flush, the window timer. */
  #windowStart = 0
  #lostAtFlush = { count: 0, records: 0 }
  #windowTimer: NodeJS.Timeout | undefined
  /** Unprivileged clock profiles: task-clock counters of the same threads (user + kernel time, in ns). */
  #unseen: UnseenKernelTime | undefined
  /** What a drain in the timer threw: thrown by the next stop() or flush(). */
  #failure: unknown
  /** The sample weight handed over by the windows of this run so far. */
  #flushedWeight = 0
  /** Warnings of the current run. */
  #runWarnings: string[] = []
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
  /** The start on the events' clock (CLOCK_MONOTONIC ns): places the samples against `#start`. */
  #startNs = 0n
  #lostFormat = false
  /** A 32-bit view of the sampler columns' buffer (rebuilt when a sampler's columns grow). */
  #chainBuf: ArrayBufferLike | undefined
  #chainWords: Uint32Array | undefined
  /** Set by `abort()`: the profiler is closed for good (its signal's reason, if any, as the cause). */
  #closed: { cause: unknown } | undefined
  readonly #onAbort = () => this.#abort(this.#s.signal?.reason)

  constructor(options: ProfileOptions = {}) {
    this.#s = profileSettings(options)
  }

  /** Whether sampling is on. */
  get running(): boolean {
    return this.#counters.length > 0
  }

  /** Opens the event (on this thread, or on every thread of the process) and starts sampling. */
  start(): void {
    this.#notRunning()
    const pid = this.#s.pid
    const other = pid !== process.pid
    // Another process: its executable mappings too (the ones it has now from /proc/<pid>/maps, later
    // ones from mmap records), so that it can still be symbolized if it exits before stop().
    const opts = this.#options({ extraRecord: other ? { comm: true, mmap: { code: true } } : { comm: true } })
    this.#reset(other ? new Map([[pid, procMaps(pid)]]) : new Map())
    this.#targetUid = other ? (effectiveUid(pid) ?? euid()) : euid()
    this.#openAll(() => {
      if (this.#s.scope === 'thread') this.#add(this.#open(undefined, opts))
      else this.#openProcess(opts)
    })
    this.#unseen = this.#s.kernel || this.#s.unit !== 'ns' || this.#s.pid !== process.pid ? undefined : UnseenKernelTime.open(this.#s.scope)
    for (const c of this.#counters) c.enable()
  }

  /**
   * Ends the run without a profile: sampling stops, every fd is closed, the drain timer is cleared,
   * the samples are dropped unsymbolized. The profiler is closed for good: `start()` throws and
   * `stop()` rejects with `ERR_CLOSED` (a `stop()` already symbolizing rejects so when it is done).
   * Idempotent. Aborting `options.signal` calls it.
   */
  abort(): void {
    this.#abort(undefined)
  }

  /** `using p = new Profiler()`: `abort()` at the end of the scope unless `stop()` has run. */
  [Symbol.dispose](): void {
    this.abort()
  }

  #abort(cause: unknown): void {
    this.#closed ??= { cause }
    this.#stopTimer()
    this.#closeAll()
    this.#store = this.#newStore()
    this.#mmaps = new Map()
    this.#comms = new Map()
    this.#child = undefined
  }

  #closedError(): PerfEventError {
    return new PerfEventError('The profiler was aborted (abort(), disposal or its signal)', 'ERR_CLOSED', { hint: PROFILER_CLOSED_HINT, cause: this.#closed?.cause })
  }

  #notRunning(): void {
    if (this.#closed === undefined && this.#s.signal?.aborted) this.#abort(this.#s.signal.reason)
    if (this.#closed) throw this.#closedError()
    if (this.running) throw new PerfEventError('The profiler is already running', 'ERR_PROFILER_RUNNING', { hint: 'Call stop() first: a profiler runs once at a time.' })
  }

  /** The sampling options every run shares, with `extra` (records, inheritance) added. */
  #options(extra: CounterOptions): CounterOptions {
    const { freq, period, kernel, maxFrames } = this.#s
    return {
      sampleOn: freq !== undefined ? { freq } : { count: period! },
      // PERF_SAMPLE_PERIOD only in freq mode: with it, the kernel samples software events on every event
      // whatever the period (perf_swevent_event); in count mode every sample weighs `period`.
      sampleFormat: { period: freq !== undefined, callChain: { excludeKernel: !kernel, maxStackFrames: maxFrames } },
      recordIdFormat: { task: true, time: true },
      // Sample times on CLOCK_MONOTONIC, the clock of process.hrtime: the exports place them against the start.
      timer: 'monotonic',
      // Kernel frames asked for: explicit, so that a refusal is an error, not a silent user-space-only fallback (lib/handles/userspace.ts).
      exclude: kernel ? { kernel: false } : { kernel: true, hv: true },
      statFormat: { lostRecords: true },
      ...extra,
    }
  }

  /** An empty store: aggregating per (thread, stack) in continuous mode (`window`). */
  #newStore(): SampleStore {
    return new SampleStore(this.#s.window !== undefined)
  }

  /** Fresh state for a run. */
  #reset(mmaps: Map<number, MmapRec[]>): void {
    this.#store = this.#newStore()
    this.#failure = undefined
    this.#comms = new Map()
    this.#lostRecords = 0
    this.#lostAtFlush = { count: 0, records: 0 }
    this.#flushedWeight = 0
    this.#lostFormat = true
    this.#ringExp = 0
    this.#runWarnings = []
    this.#mmaps = mmaps
  }

  #add(c: Counter): void {
    this.#counters.push(c)
    this.#samplers.push(this.#ring(c))
  }

  /** Runs `open` (all or nothing: a failure closes what it opened), then starts the clock, the drain timer and listens to the signal. */
  #openAll(open: () => void): void {
    try {
      open()
    } catch (e) {
      this.#closeAll()
      throw e
    }
    this.#windowStart = this.#start = Date.now()
    this.#startNs = process.hrtime.bigint()
    // Drains while the event loop turns (async work); a long synchronous stretch relies on the ring's size.
    // Fewer, larger drains cost less: at a frequency (a bounded rate), every 200 ms or when the ring
    // is about 1/8 full at that rate if sooner; every 50 ms for one sample per `period` events (any rate).
    // Unref'd: sampling alone never keeps the process alive.
    // A drain that finds lost records halves the interval (#drainSooner).
    this.#drainEvery = this.#drainMs()
    this.#timer = setInterval(this.#timedDrain, this.#drainEvery)
    this.#timer.unref()
    const { window, onWindow } = this.#s
    if (window !== undefined && onWindow) {
      this.#windowTimer = setInterval(() => {
        this.flush()
          .then(onWindow)
          .catch((e: unknown) => {
            if (!(e instanceof PerfEventError && e.code === 'ERR_CLOSED')) process.emitWarning(`perf-event-open: a profile window failed: ${String(e)}`, { code: 'PERF_EVENT_OPEN_WINDOW' })
          })
      }, window)
      this.#windowTimer.unref()
    }
    this.#s.signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  #stopTimer(): void {
    clearInterval(this.#timer)
    clearInterval(this.#windowTimer)
    this.#timer = undefined
    this.#windowTimer = undefined
    this.#s.signal?.removeEventListener('abort', this.#onAbort)
  }

  /** Lost records found by a drain: drain twice as often (down to MIN_DRAIN_MS), and give the next run a larger ring. */
  #drainSooner(): void {
    if (!this.#s.expChosen) this.#expBoost = Math.max(this.#expBoost, 1)
    if (this.#timer === undefined || this.#drainEvery <= MIN_DRAIN_MS) return
    this.#drainEvery = Math.max(MIN_DRAIN_MS, this.#drainEvery >> 1)
    clearInterval(this.#timer)
    this.#timer = setInterval(this.#timedDrain, this.#drainEvery)
    this.#timer.unref()
  }

  /** The timer's drain: a failure must not become an uncaught exception; the next stop() or flush() throws it. */
  #timedDrain = (): void => {
    try {
      this.#drain()
    } catch (e) {
      this.#failure ??= e
      clearInterval(this.#timer)
    }
  }

  /** The drain interval (ms) for the ring in use. */
  #drainMs(): number {
    const { freq, maxFrames } = this.#s
    if (freq === undefined) return PERIOD_DRAIN_MS
    const ringBytes = 4096 * 2 ** this.#ringExp
    const perSecond = freq * (SAMPLE_BYTES + 8 * Math.min(maxFrames, 64))
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
        return new Counter(this.#s.event, target, opts)
      } catch (e) {
        if (!(e instanceof PerfEventError) || !['EINVAL', 'ERR_UNSUPPORTED_BY_BUILD'].includes(e.code)) throw e
        this.#lostFormat = false
      }
    }
    return new Counter(this.#s.event, target, { ...opts, statFormat: undefined })
  }

  /** One event per thread per CPU, inherited by later threads; per CPU, all redirected into one ring (rings.ts). */
  #openProcess(opts: CounterOptions): void {
    const opened = openOnProcess(this.#s.pid, (target, inherit) => this.#open(target, { ...opts, inherit }), (c) => this.#samplers.push(this.#ring(c)))
    this.#counters.push(...opened)
  }

  /** Maps the ring of `c` (rings.ts `mapRing`: halved while the memlock limit refuses it, unless chosen). */
  #ring(c: Counter): Sampler {
    const { exp, expChosen } = this.#s
    const want = expChosen ? exp : Math.min(Math.max(exp, MAX_GROWN_EXP), exp + this.#expBoost, 16)
    const size = { want, chosen: expChosen, exp: this.#ringExp }
    const s = mapRing(c, size, this.#runWarnings)
    this.#ringExp = size.exp
    return s
  }

  #closeAll(): void {
    for (const s of this.#samplers) s.close()
    for (const c of this.#counters) c.close()
    this.#unseen?.close()
    this.#samplers = []
    this.#counters = []
    this.#unseen = undefined
  }

  #drain(): void {
    const lost = this.#lostRecords
    for (const s of this.#samplers) this.#drainOne(s)
    if (this.#lostRecords > lost) this.#drainSooner()
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
    const fixed = this.#s.period ?? 1
    const sampled = this.#s.freq !== undefined
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
      this.#store.add(task?.tid ?? 0, task?.pid ?? process.pid, r.recordId.time ?? 0n, r.period !== undefined ? Number(r.period) : (this.#s.period ?? 1), user, kernel)
    } else if (r.type === 'lostRecords') this.#lostRecords += Number(r.lostRecords)
    else if (r.type === 'comm') this.#comms.set(r.task.tid, r.comm)
    else if (r.type === 'mmap' && r.executable) {
      let list = this.#mmaps.get(r.task.pid)
      if (!list) this.#mmaps.set(r.task.pid, (list = []))
      list.push({ addr: r.addr, end: r.addr + r.len, pageOffset: r.pageOffset, file: r.file })
    }
  }

  /** Samples the kernel could not write: PERF_FORMAT_LOST (exact) where the events have it, else the LOST records. */
  #lost(): LostSamples {
    if (!this.#lostFormat) return { count: this.#lostRecords, source: 'PERF_RECORD_LOST', records: this.#lostRecords }
    let n = 0
    for (const c of this.#counters) n += Number(c.stat().lostRecords ?? 0n)
    return { count: n, source: 'PERF_FORMAT_LOST', records: this.#lostRecords }
  }


  /** Stops sampling, symbolizes (off the JS thread) and returns the profile (in continuous mode: since the last window or `flush()`). */
  async stop(): Promise<Profile> {
    if (this.#closed) throw this.#closedError()
    if (!this.running) throw new PerfEventError('The profiler is not running', 'ERR_PROFILER_NOT_RUNNING', { hint: 'Call start() first.' })
    for (const c of this.#counters) c.disable()
    this.#stopTimer()
    const failed = this.#failure
    this.#failure = undefined
    if (failed !== undefined) {
      this.#closeAll()
      throw failed
    }
    this.#drain()
    const lost = this.#lost()
    const unseen = this.#unseen?.statement(this.#store.weight + this.#flushedWeight) ?? ''
    const fds = this.#counters.length
    this.#closeAll()
    const warnings: string[] = []
    if (unseen) warnings.push(unseen)
    if (lost.count > 0 && !this.#s.expChosen) this.#expBoost++
    const profile = this.#window(lost, fds, Date.now(), warnings)
    this.#child = undefined
    return await profile
  }

  /**
   * Continuous profiling: the profile of the samples since the start or the previous `flush()` (or
   * window), while sampling goes on; its `meta.startTime`/`endTime` are the window's, its `lost` the
   * window's losses. Windows of one run add up to the run: every sample is in exactly one.
   */
  async flush(): Promise<Profile> {
    if (this.#closed) throw this.#closedError()
    if (!this.running) throw new PerfEventError('The profiler is not running', 'ERR_PROFILER_NOT_RUNNING', { hint: 'Call start() first.' })
    if (this.#failure !== undefined) throw this.#failure
    this.#drain()
    return await this.#window(this.#lost(), this.#counters.length, Date.now(), [])
  }

  /** Takes the samples since the last window and builds their profile (`extra`: warnings of this window). */
  async #window(total: LostSamples, fds: number, end: number, extra: string[]): Promise<Profile> {
    const at = this.#lostAtFlush
    const lost: LostSamples = { count: total.count - at.count, source: total.source, records: total.records - at.records }
    this.#lostAtFlush = { count: total.count, records: total.records }
    const start = this.#windowStart
    this.#windowStart = end
    const { label, unit, freq, period, kernel, labels } = this.#s
    const warnings = [...this.#s.warnings, ...this.#runWarnings, ...extra]
    if (lost.count > 0)
      warnings.push(
        `${lost.count} samples lost: the ring (2^${this.#ringExp} pages) filled before it was drained.` +
          (this.#s.expChosen ? ' Use a larger ringExp (2^ringExp pages), a lower freq, or await between chunks of work.' : ' The next run of this profiler maps a larger ring; or set ringExp, a lower freq, or await between chunks of work.'),
      )
    const { scope, pid, perfMap } = profileTarget({ child: this.#child, pid: this.#s.pid, scope: this.#s.scope, samplePids: this.#store.pid }, warnings)
    const store = this.#store
    this.#store = this.#newStore()
    this.#flushedWeight += store.weight
    const samples = store.expand()
    const t0 = store.firstTime
    const firstSampleTime = t0 === undefined ? undefined : this.#start + Number(t0 - this.#startNs) / 1e6
    // Perf maps are accepted from the target's user, this process's user, or root.
    const uids = [...new Set([this.#targetUid, process.geteuid?.() ?? 0])]
    const profile = await buildProfile({
      samples,
      symbolizeUser: userSymbolizer({ mmaps: this.#mmaps, uids: () => uids, warnings, perfMap }),
      comms: new Map(this.#comms),
      meta: { event: label, unit, freq, period, kernel, scope, fds, pid, startTime: start, endTime: end, firstSampleTime, ...(labels && { labels }) },
      lost,
      warnings,
    })
    if (this.#closed) throw this.#closedError() // aborted while it symbolized
    return profile
  }

  /** @internal (thread, stack) entries (aggregating) or samples held now, and distinct chains: what the store's memory grows with. */
  get held(): { entries: number; samples: number; chains: number } {
    return { entries: this.#store.length, samples: this.#store.samples, chains: this.#store.chains }
  }

}
