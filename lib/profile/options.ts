/**
 * The options of `profile()` and `new Profiler()`: their types, their defaults and their checks,
 * turned once into the `ProfileSettings` a profiler runs with.
 */
import { typeError } from '../errors/errors'
import { optionalInt } from '../events/check'
import { isClockEvent, resolveEvent, unitOf, type EventInput } from '../events/events'
import { paranoidLevel } from '../system/kernel'
import { isPerfPrivileged } from '../system/privilege'
import type { Profile } from './model'

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
  /**
   * Aborting it does what `profiler.abort()` does: sampling stops, every fd is closed, nothing is
   * symbolized, and `stop()` rejects with `ERR_CLOSED`. An already aborted signal makes `start()` throw.
   */
  signal?: AbortSignal
  /**
   * Continuous profiling: every `window` ms (1 000 to 86 400 000) the profile since the previous one
   * is handed to `onWindow` while sampling goes on, with its own start/end times and `labels`.
   * Samples are aggregated per (thread, stack) as they are drained, so memory grows with distinct
   * stacks, not with time: inside a window, per-sample times and weights are approximate (an
   * entry's samples spread evenly over its first to last time, each with its mean weight), which
   * `.cpuprofile` time deltas, the Firefox export's sample times and `samples.time` show; totals,
   * counts, stacks, pprof and folded output are exact. `flush()` hands over a window on demand.
   */
  window?: number
  /** Called with each window's profile (needed with `window`). An exception or rejection it raises is emitted as a process warning. */
  onWindow?: (profile: Profile) => unknown
  /** Labels of every profile (e.g. `{ service: 'api', pid: process.pid }`): in `meta.labels` and pprof's sample labels. */
  labels?: Readonly<Record<string, string | number>>
}

/** What a profiler runs with: the options checked, with their defaults filled in. */
export interface ProfileSettings {
  readonly event: EventInput
  /** The event's name as profiles show it, and the unit of a sample's weight (`ns` for clocks). */
  readonly label: string
  readonly unit: string
  /** One of them: samples per second, or events per sample. */
  readonly freq: number | undefined
  readonly period: number | undefined
  readonly kernel: boolean
  /** Ring size as an exponent (2^exp data pages), and whether the user chose it (then it is never reduced). */
  readonly exp: number
  readonly expChosen: boolean
  readonly maxFrames: number
  readonly scope: 'thread' | 'process'
  /** The profiled process. */
  readonly pid: number
  readonly signal: AbortSignal | undefined
  /** Warnings of every run (kernel frames off, and why). */
  readonly warnings: readonly string[]
  /** Continuous mode: the window (ms) and its consumer; samples are aggregated when `window` is set. */
  readonly window: number | undefined
  readonly onWindow: ((profile: Profile) => unknown) | undefined
  readonly labels: Readonly<Record<string, string | number>> | undefined
}

const KNOWN = ['event', 'freq', 'period', 'scope', 'kernel', 'ringExp', 'maxStackFrames', 'pid', 'signal', 'window', 'onWindow', 'labels']
export const DEFAULT_FREQ = 999
const DEFAULT_MAX_FRAMES = 127
/** Bytes of one sample record beyond the call chain: header, tid, time, period, chain length, context markers. */
export const SAMPLE_BYTES = 64

/** Checks `options` (TypeError/RangeError naming the option; PerfEventError for an unknown event) and fills in the defaults. */
export function profileSettings(options: ProfileOptions): ProfileSettings {
  if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
  for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw typeError(`one of ${KNOWN.join(', ')}`, 'options key', k)
  const event = options.event ?? 'cpu-clock'
  const ev = resolveEvent(event)
  if (options.scope !== undefined && options.scope !== 'thread' && options.scope !== 'process') throw typeError("'thread' or 'process'", 'options.scope', options.scope)
  const scope = options.scope ?? 'thread'
  const pid = optionalInt(options.pid, 'options.pid', 1, 0x7fffffff)
  if (pid !== undefined && scope !== 'process') throw new TypeError(`Expected scope: 'process' with options.pid but received scope: '${scope}'`)
  let freq = optionalInt(options.freq, 'options.freq', 1, 1_000_000)
  let period = optionalInt(options.period, 'options.period', 1, Number.MAX_SAFE_INTEGER)
  if (freq !== undefined && period !== undefined) throw new TypeError('Expected one of options.freq or options.period but received both')
  if (freq === undefined && period === undefined) {
    const timeBased = isClockEvent(ev.native) || ['hardware', 'hwCache', 'raw', 'dynamic'].includes(ev.native.type)
    if (timeBased) freq = DEFAULT_FREQ
    else period = 1
  }
  const maxFrames = optionalInt(options.maxStackFrames, 'options.maxStackFrames', 1, 0xffff) ?? DEFAULT_MAX_FRAMES
  if (options.kernel !== undefined && typeof options.kernel !== 'boolean') throw typeError('a boolean', 'options.kernel', options.kernel)
  const warnings: string[] = []
  let kernel = options.kernel
  if (kernel === undefined) {
    kernel = isPerfPrivileged() || (paranoidLevel() ?? 2) <= 1
    if (!kernel)
      warnings.push(`Kernel frames are off: kernel.perf_event_paranoid is ${paranoidLevel() ?? 'unreadable'} (kernel stacks need <= 1, root or CAP_PERFMON). Run sudo sysctl kernel.perf_event_paranoid=1 to include them.`)
  }
  const ringExp = optionalInt(options.ringExp, 'options.ringExp (an exponent: 2^ringExp pages)', 0, 16)
  const exp = ringExp ?? defaultRingExp(freq, maxFrames, scope)
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('an AbortSignal', 'options.signal', signal)
  const window = optionalInt(options.window, 'options.window (ms)', 1000, 86_400_000)
  const onWindow = options.onWindow
  if (onWindow !== undefined && typeof onWindow !== 'function') throw typeError('a function', 'options.onWindow', onWindow)
  if (window !== undefined && onWindow === undefined) throw new TypeError('Expected options.onWindow (a function taking each window\'s profile) with options.window')
  const labels = options.labels
  if (labels !== undefined) {
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) throw typeError('an object of string or number values', 'options.labels', labels)
    for (const [k, v] of Object.entries(labels)) if (typeof v !== 'string' && typeof v !== 'number') throw typeError('a string or a number', `options.labels.${k}`, v)
  }
  return {
    event,
    label: ev.label,
    unit: unitOf(ev),
    freq,
    period,
    kernel,
    exp,
    expChosen: ringExp !== undefined,
    maxFrames,
    scope,
    pid: pid ?? process.pid,
    signal,
    warnings,
    window,
    onWindow,
    labels: labels && Object.freeze({ ...labels }),
  }
}

/**
 * The default ring (2^exp pages). At a frequency (a bounded rate): about 2 s of samples, 2^4 to
 * 2^10 pages. With a period the rate is the event's, unbounded (64 MiB of fresh pages are 16 384
 * page faults in a few ms of synchronous code, which no drain can interrupt): 2^11 pages (8 MiB,
 * ~35 000 samples of ~230 B) for one thread, 2^9 per CPU for a process. A run that lost samples
 * grows the next run's ring (profiler.ts).
 */
function defaultRingExp(freq: number | undefined, maxFrames: number, scope: 'thread' | 'process'): number {
  if (freq === undefined) return scope === 'thread' ? 11 : 9
  const bytes = freq * 2 * (SAMPLE_BYTES + 8 * Math.min(maxFrames, 64))
  return Math.min(10, Math.max(4, Math.ceil(Math.log2(bytes / 4096))))
}
