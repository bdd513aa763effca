import type { NativeCounter, NativeOpts, NativeTarget } from '../index'
import { binding, buildInfo } from './binding'
import { packageName, variantWith } from './variants'
import { currentTarget } from './loader'
import { fromNative, rangeError, typeError, type ErrorContext } from './errors'
import { Handle } from './handle'
import { isClockEvent, Sampler } from './sampler'
import { resolveEvent, type EventInput, type ResolvedEvent } from './events'
import { counterOptions, needsNewer, OPERATION_SINCE, resolveTarget, versionLess, type CounterOptions, type Target } from './options'
import { decodeStat, ensureStatBuffer, readStat, statSlots, type Stat } from './stat'
import type { NativeBinding } from './binding'

/** ` (the linux-5.15 variant has it: PERF_EVENT_OPEN_VARIANT=linux-5.15, package …)` */
function variantHint(since: string): string {
  const v = variantWith(since)
  if (!v) return ''
  const target = currentTarget()
  const pkg = target ? `, package ${packageName(target.platform, v.name)}` : ''
  return ` (the ${v.name} variant has it: PERF_EVENT_OPEN_VARIANT=${v.name}${pkg}; it needs Linux ${v.kernel}+)`
}

/** Builds the error context of an opened event: used for every error of that handle. */
export function contextFor(ev: ResolvedEvent, opts: NativeOpts, target: NativeTarget): ErrorContext {
  const freq = opts.sampleOn?.freq
  return {
    what: ev.label,
    eventType: ev.native.type,
    freq,
    excludeKernel: opts.exclude?.kernel === true,
    pid: target.pid > 0 && target.cgroup === undefined ? target.pid : undefined,
    cgroup: target.cgroup,
    inheritAllCpus: opts.inherit !== undefined && target.cpu < 0,
    unsupported: () => {
      const built = binding().buildLinux()
      const needs = needsNewer(opts, ev.native, built).map(({ option, since }) => `${option} needs Linux ${since}${variantHint(since)}`)
      return `The loaded build (${buildInfo().variant}) has the perf ABI of Linux ${built}. ${needs.length ? `${needs.join('; ')}.` : 'Use a variant for a newer kernel.'}`
    },
  }
}

/** Checks an operation that needs a newer Linux than the loaded build has, before calling native. */
export function operationContext(ctx: ErrorContext, op: keyof typeof OPERATION_SINCE): ErrorContext {
  return {
    ...ctx,
    unsupported: () => {
      const built = binding().buildLinux()
      const since = OPERATION_SINCE[op]
      return versionLess(built, since)
        ? `${op} needs Linux ${since}${variantHint(since)}; the loaded build (${buildInfo().variant}) has the perf ABI of Linux ${built}.`
        : undefined
    },
  }
}

/**
 * One perf event: counts (and, later, samples) what happens on its target.
 *
 * ```ts
 * using c = new Counter('task-clock')
 * c.enable(); work(); c.disable()
 * console.log(c.stat().count) // ns of CPU time of this thread
 * ```
 */
export class Counter extends Handle<NativeCounter, Stat> {
  readonly #binding: NativeBinding
  readonly #handle: number
  readonly #ctx: ErrorContext
  /** A cpu-clock/task-clock counter opened with `sampleOn: { freq }` (see Sampler.setSampleOn). */
  readonly #clockFreq: boolean
  /** Reads PERF_FORMAT_LOST (`statFormat.lostRecords`): part of the read layout. */
  readonly #lost: boolean
  /** The event as given (string) or a short description of the object. */
  readonly label: string

  /**
   * Opens the event (perf_event_open). The counter starts disabled unless `options.enable`.
   * @param event an event string (`'task-clock'`, `'instructions:u'`, `'syscalls:sys_enter_write'`, `'msr/tsc/'`, `'mem:0x1000/8:w'`…) or a typed object.
   * @param target default `{ pid: 0, cpu: 'all' }`: the calling (JS) thread on any CPU.
   * @param options the crate's `Opts` in camelCase; `stat()` reads id, timeEnabled and timeRunning by default.
   * @throws TypeError / RangeError for bad arguments; PerfEventError (with `code` and `hint`) when the kernel refuses.
   */
  constructor(event: EventInput, target?: Target, options?: CounterOptions) {
    super('Counter')
    const ev = resolveEvent(event)
    const t = resolveTarget(target)
    const opts = counterOptions(options, ev)
    this.label = ev.label
    this.#ctx = contextFor(ev, opts, t)
    this.#clockFreq = opts.sampleOn?.freq !== undefined && isClockEvent(ev.native)
    this.#lost = opts.statFormat?.lostRecords === true
    this.#binding = binding()
    let native: NativeCounter
    try {
      native = this.attach(new this.#binding.NativeCounter(ev.native, t, opts), this.#ctx)
    } catch (e) {
      throw fromNative(e, this.#ctx)
    }
    this.#handle = native.handle
    ensureStatBuffer(this.#binding, statSlots(1))
  }

  /** Starts counting (PERF_EVENT_IOC_ENABLE). */
  enable(): void {
    this.call((n) => n.enable())
  }

  /** Stops counting (PERF_EVENT_IOC_DISABLE); the value is kept. */
  disable(): void {
    this.call((n) => n.disable())
  }

  /** Sets the count to zero (PERF_EVENT_IOC_RESET). Times are not reset. */
  reset(): void {
    this.call((n) => n.reset())
  }

  /** Reads the counter: one read(2), no allocation on the native side. */
  stat(): Stat {
    // A plain function with the handle number: cheaper than a native method call (bench/README.md).
    return decodeStat(this.call(() => readStat(this.#binding, this.#binding.counterStat, this.#handle)), this.#lost)
  }

  /** The event's kernel id (PERF_EVENT_IOC_ID), the one records and group reads carry. */
  id(): bigint {
    return this.call((n) => n.id())
  }

  /**
   * Maps a ring buffer of 2^`exp` data pages (plus the metadata page) and returns its sampler.
   * One sampler per counter (`ERR_SAMPLER_EXISTS` otherwise). Samples need `options.sampleOn`;
   * extra records need `options.extraRecord`. The mapping counts against `kernel.perf_event_mlock_kb`
   * and RLIMIT_MEMLOCK. The sampler keeps working after the counter is closed.
   */
  sampler(exp: number): Sampler {
    if (!Number.isInteger(exp) || exp < 0 || exp > 30) throw rangeError('an integer from 0 to 30 (2^exp data pages)', 'exp', exp)
    const native = this.call((n) => n.sampler(exp))
    return new Sampler(native, this.#ctx, this.#clockFreq)
  }

  /** The perf event file descriptor (owned by this counter; do not close it). */
  get fd(): number {
    return this.native.fd()
  }

  /** Sets an ftrace filter on a tracepoint counter, e.g. `'common_pid != 0'` (PERF_EVENT_IOC_SET_FILTER). */
  setFilter(filter: string): void {
    if (typeof filter !== 'string') throw typeError('a filter string', 'filter', filter)
    this.call((n) => n.setFilter(filter))
  }

  /** Attaches a loaded BPF program (by fd) to this tracepoint/kprobe/uprobe counter (PERF_EVENT_IOC_SET_BPF). Since Linux 4.1. */
  attachBpf(fd: number): void {
    if (!Number.isInteger(fd) || fd < 0) throw typeError('a file descriptor (non-negative integer)', 'fd', fd)
    this.call((n) => n.attachBpf(fd), operationContext(this.#ctx, 'attachBpf'))
  }

  /** Ids of the BPF programs attached to this event (PERF_EVENT_IOC_QUERY_BPF). Since Linux 4.16. */
  queryBpf(max = 64): { ids: number[]; more: number } {
    if (!Number.isInteger(max) || max < 0 || max > 0xffff) throw typeError('an integer from 0 to 65535', 'max', max)
    return this.call((n) => n.queryBpf(max), operationContext(this.#ctx, 'queryBpf'))
  }

  /**
   * Changes the event of an open counter (PERF_EVENT_IOC_MODIFY_ATTRIBUTES). Since Linux 4.17;
   * the kernel supports it for breakpoints only (e.g. move a watchpoint to another address).
   */
  switchTo(event: EventInput): void {
    const ev = resolveEvent(event)
    this.call((n) => n.switchTo(ev.native), operationContext({ ...this.#ctx, what: ev.label }, 'switchTo'))
  }

  /** Enables every counter attached to the calling thread (prctl PR_TASK_PERF_EVENTS_ENABLE). */
  static enableAll(): void {
    try {
      binding().NativeCounter.enableAll()
    } catch (e) {
      throw fromNative(e, { what: 'all counters' })
    }
  }

  /** Disables every counter attached to the calling thread (prctl PR_TASK_PERF_EVENTS_DISABLE). */
  static disableAll(): void {
    try {
      binding().NativeCounter.disableAll()
    } catch (e) {
      throw fromNative(e, { what: 'all counters' })
    }
  }
}
