/**
 * The options of `profile()` and `new Profiler()`: their types, their defaults and their checks,
 * turned once into the `ProfileSettings` a profiler runs with.
 */
import { rangeError, typeError } from '../errors/errors'
import { isClockEvent, resolveEvent, unitOf, type EventInput } from '../events/events'
import { paranoidLevel } from '../system/kernel'
import { isPerfPrivileged } from '../system/privilege'

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
}

const KNOWN = ['event', 'freq', 'period', 'scope', 'kernel', 'ringExp', 'maxStackFrames', 'pid', 'signal']
export const DEFAULT_FREQ = 999
const DEFAULT_MAX_FRAMES = 127
/** Bytes of one sample record beyond the call chain: header, tid, time, period, chain length, context markers. */
export const SAMPLE_BYTES = 64

/** An optional integer option: TypeError for another type or a fraction, RangeError outside [min, max]. */
function checkInt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(`an integer from ${min} to ${max}`, name, v)
  if (v < min || v > max) throw rangeError(`an integer from ${min} to ${max}`, name, v)
  return v
}

/** Checks `options` (TypeError/RangeError naming the option; PerfEventError for an unknown event) and fills in the defaults. */
export function profileSettings(options: ProfileOptions): ProfileSettings {
  if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
  for (const k of Object.keys(options)) if (!KNOWN.includes(k)) throw typeError(`one of ${KNOWN.join(', ')}`, 'options key', k)
  const event = options.event ?? 'cpu-clock'
  const ev = resolveEvent(event)
  if (options.scope !== undefined && options.scope !== 'thread' && options.scope !== 'process') throw typeError("'thread' or 'process'", 'options.scope', options.scope)
  const scope = options.scope ?? 'thread'
  const pid = checkInt(options.pid, 'options.pid', 1, 0x7fffffff)
  if (pid !== undefined && scope !== 'process') throw new TypeError(`Expected scope: 'process' with options.pid but received scope: '${scope}'`)
  let freq = checkInt(options.freq, 'options.freq', 1, 1_000_000)
  let period = checkInt(options.period, 'options.period', 1, Number.MAX_SAFE_INTEGER)
  if (freq !== undefined && period !== undefined) throw new TypeError('Expected one of options.freq or options.period but received both')
  if (freq === undefined && period === undefined) {
    const timeBased = isClockEvent(ev.native) || ['hardware', 'hwCache', 'raw', 'dynamic'].includes(ev.native.type)
    if (timeBased) freq = DEFAULT_FREQ
    else period = 1
  }
  const maxFrames = checkInt(options.maxStackFrames, 'options.maxStackFrames', 1, 0xffff) ?? DEFAULT_MAX_FRAMES
  if (options.kernel !== undefined && typeof options.kernel !== 'boolean') throw typeError('a boolean', 'options.kernel', options.kernel)
  const warnings: string[] = []
  let kernel = options.kernel
  if (kernel === undefined) {
    kernel = isPerfPrivileged() || (paranoidLevel() ?? 2) <= 1
    if (!kernel)
      warnings.push(`Kernel frames are off: kernel.perf_event_paranoid is ${paranoidLevel() ?? 'unreadable'} (kernel stacks need <= 1, root or CAP_PERFMON). Run sudo sysctl kernel.perf_event_paranoid=1 to include them.`)
  }
  const ringExp = checkInt(options.ringExp, 'options.ringExp (an exponent: 2^ringExp pages)', 0, 16)
  // Default ring: about 2 s of samples at the rate (1000/s for a period), 2^4 to 2^10 pages.
  const bytes = (freq ?? 1000) * 2 * (SAMPLE_BYTES + 8 * Math.min(maxFrames, 64))
  const exp = ringExp ?? Math.min(10, Math.max(4, Math.ceil(Math.log2(bytes / 4096))))
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('an AbortSignal', 'options.signal', signal)
  return { event, label: ev.label, unit: unitOf(ev), freq, period, kernel, exp, expChosen: ringExp !== undefined, maxFrames, scope, pid: pid ?? process.pid, signal, warnings }
}
