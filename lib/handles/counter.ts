import type { NativeCounter } from '../../index'
import { binding } from '../loading/binding'
import { fromNative, rangeError, typeError, type ErrorContext } from '../errors/errors'
import { Handle } from './handle'
import type * as SamplerModule from './sampler'
import { isClockEvent, resolveEvent, type EventInput } from '../events/events'
import { counterOptions, resolveTarget, type CounterOptions, type Target } from '../events/options'
import { contextFor, operationContext } from '../events/since'
import { openCountingUserOnly } from './userspace'
import { decodeStat, ensureStatBuffer, readStat, armSwitch, switchDone, fastCalls, statBytes, statSlots, type FastCalls, type ReadCheck, type Stat } from './stat'
import type { NativeBinding } from '../loading/binding'

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
  /** The hot-path native functions (`fastCalls`). */
  readonly #fast: FastCalls
  readonly #handle: number
  readonly #ctx: ErrorContext
  /** A cpu-clock/task-clock counter opened with `sampleOn: { freq }` (see Sampler.setSampleOn). */
  readonly #clockFreq: boolean
  /** Reads PERF_FORMAT_LOST (`statFormat.lostRecords`): part of the read layout. */
  readonly #lost: boolean
  /** What every read must fit: its size and the event's id (else the fd is checked: ERR_FD_REPLACED). */
  readonly #check: ReadCheck
  /** The event as given (string) or a short description of the object; `:u` appended where it counts user space only because the kernel refused kernel-mode counting. */
  readonly label: string
  /**
   * The kernel refused kernel-mode counting (kernel.perf_event_paranoid 2 without CAP_PERFMON) and
   * the event's privilege levels were left to the defaults, so it counts user space only, as perf
   * does (`label` ends in `:u`; README "Permissions").
   */
  readonly userSpaceOnly: boolean

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
    const asked = counterOptions(options, ev)
    this.#binding = binding()
    this.#fast = fastCalls(this.#binding)
    const NativeCounter = this.#binding.NativeCounter
    // Where the kernel refuses kernel-mode counting, events left to the default privilege levels count user space only (lib/handles/userspace.ts).
    const opened = openCountingUserOnly(
      ev,
      asked,
      options,
      t,
      (o) => new NativeCounter(ev.native, t, o),
      (e, kernelOnly) => fromNative(e, { ...contextFor(ev, asked, t), kernelOnly }),
    )
    const opts = opened.opts
    this.label = opened.label
    this.userSpaceOnly = opened.userOnly
    this.#ctx = { ...contextFor(ev, opts, t), what: opened.label }
    this.#clockFreq = opts.sampleOn?.freq !== undefined && isClockEvent(ev.native)
    this.#lost = opts.statFormat?.lostRecords === true
    const native = this.attach(opened.value, this.#ctx)
    this.#handle = native.handle
    let id: bigint
    try {
      id = native.id()
    } catch (e) {
      try {
        this.close()
      } catch {}
      throw fromNative(e, this.#ctx)
    }
    this.#check = { bytes: statBytes(this.#lost), id, verify: () => this.call((n) => n.checkFds()) }
    ensureStatBuffer(this.#fast, statSlots(1))
  }

  protected nativeSwitch(op: 'enable' | 'disable' | 'reset'): void {
    const b = this.#fast
    const h = this.#handle
    this.call(() => {
      armSwitch(h)
      let threw = false
      let error: unknown
      try {
        // Direct calls (not through a variable): V8's fast path for native functions.
        if (op === 'enable') b.counterEnable()
        else if (op === 'disable') b.counterDisable()
        else b.counterReset()
      } catch (e) {
        threw = true
        error = e
      }
      switchDone(b, op === 'enable' ? b.counterEnable : op === 'disable' ? b.counterDisable : b.counterReset, h, threw, error)
    })
  }

  /**
   * Reads the counter: no allocation on the native side; one read(2), or none for a hardware
   * counter of this thread where the kernel allows user-space reads (see `userSpaceRead`).
   */
  stat(): Stat {
    // A plain function with the handle number: cheaper than a native method call (bench/README.md).
    const s = decodeStat(this.call(() => readStat(this.#fast, this.#fast.counterStat, this.#handle)), this.#lost, this.#check)
    if (this.userSpaceOnly) s.userSpaceOnly = true
    return s
  }

  /**
   * Whether `stat()` reads this counter without a system call (the `perf_event_mmap_page`
   * self-monitoring protocol): a generic hardware event of the calling thread, not inherited, without
   * `statFormat.lostRecords`, where the kernel allows it (x86-64: `/sys/bus/event_source/devices/cpu/rdpmc`
   * not 0; arm64: `kernel.perf_user_access = 1`, Linux 5.17+). The values are those `read(2)` gives;
   * `stat()` still uses `read(2)` whenever the counter is not on a PMU counter of this CPU
   * (disabled, multiplexed away). A `sampler()` takes over the mapping: `false` from then on.
   */
  get userSpaceRead(): boolean {
    return this.call((n) => n.userSpaceRead)
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
  sampler(exp: number): SamplerModule.Sampler {
    if (!Number.isInteger(exp) || exp < 0 || exp > 30) throw rangeError('an integer from 0 to 30 (2^exp data pages)', 'exp', exp)
    const native = this.call((n) => n.sampler(exp))
    // Loaded on first use: counting alone never needs the sampler and its batch layout.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Sampler, SAMPLER_TOKEN } = require('./sampler') as typeof SamplerModule
    return new Sampler(native, this.#ctx, SAMPLER_TOKEN, this.#clockFreq)
  }

  /**
   * The perf event file descriptor, for `poll`/`epoll` or an ioctl. **Borrowed**: it is a duplicate
   * owned by this counter and closed by `close()`; do not close it or hand it to something that
   * takes ownership. If other code closes it anyway, the counter keeps working, the next `fd`
   * read gives a new duplicate, and the counter never closes or touches a file that reused the
   * number. (If the counter's own fd is closed behind its back, operations and `close()` fail with
   * `ERR_FD_REPLACED` and the file that took over the number is left alone.)
   */
  get fd(): number {
    return this.call((n) => n.fd())
  }

  /** Sets an ftrace filter on a tracepoint counter, e.g. `'common_pid != 0'` (PERF_EVENT_IOC_SET_FILTER). */
  setFilter(filter: string): void {
    if (typeof filter !== 'string') throw typeError('a filter string', 'filter', filter)
    this.call((n) => n.setFilter(filter), { ...this.#ctx, operation: 'setFilter' })
  }

  /** Attaches a loaded BPF program (by fd) to this tracepoint/kprobe/uprobe counter (PERF_EVENT_IOC_SET_BPF). Since Linux 4.1. */
  attachBpf(fd: number): void {
    if (typeof fd !== 'number' || !Number.isInteger(fd)) throw typeError('a file descriptor (non-negative integer)', 'fd', fd)
    if (fd < 0 || fd > 0x7fffffff) throw rangeError('a file descriptor (non-negative integer)', 'fd', fd)
    this.call((n) => n.attachBpf(fd), operationContext(this.#ctx, 'attachBpf'))
  }

  /** Ids of the BPF programs attached to this event (PERF_EVENT_IOC_QUERY_BPF). Since Linux 4.16. */
  queryBpf(max = 64): { ids: number[]; more: number } {
    if (typeof max !== 'number' || !Number.isInteger(max)) throw typeError('an integer from 0 to 65535', 'max', max)
    if (max < 0 || max > 0xffff) throw rangeError('an integer from 0 to 65535', 'max', max)
    return this.call((n) => n.queryBpf(max), operationContext(this.#ctx, 'queryBpf'))
  }

  /**
   * Changes the event of an open counter (PERF_EVENT_IOC_MODIFY_ATTRIBUTES). Since Linux 4.17;
   * the kernel supports it for breakpoints only (e.g. move a watchpoint to another address).
   */
  switchTo(event: EventInput): void {
    const ev = resolveEvent(event)
    this.call((n) => n.switchTo(ev.native), operationContext({ ...this.#ctx, what: ev.label, eventType: ev.native.type, operation: 'switchTo' }, 'switchTo'))
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
