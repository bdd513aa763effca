import { Counter } from '../../handles/counter'
import type { Sampler } from '../../handles/sampler'
import { PerfEventError, typeError } from '../../errors/errors'
import { PERF_MAP_HINT } from '../../errors/hints'
import type { EventInput } from '../../events/events'
import type { CounterOptions } from '../../events/options'
import type { LostSamples } from '../model'
import { SampleStore } from '../samples'
import { buildStacks } from '../build'
import { perfMapEnabled } from '../perfmap'
import { procMaps, userSymbolizer, type MmapRec } from '../usersyms'
import { checkOptions, type CheckedOptions, type OffCpuOptions } from './options'
import { threadIntervals, type OffCpuState, type RawInterval, type SwitchEvent } from './intervals'
import { onlineCpus, paranoidLevel } from '../../system/kernel'
import { mapRing, openOnProcess } from '../rings'
import { UNWIND_REGS_MASK } from '../unwind'
import { STATE_FRAMES, UserFrames, stateOf } from './stacks'
import { OffCpuProfile, type OffCpuMeta, type OffCpuThread, type OffCpuInterval } from './profile'
import { effectiveUid, isPerfPrivileged } from '../../system/privilege'

export type { OffCpuState } from './intervals'
export { OffCpuProfile, type OffCpuMeta, type OffCpuThread, type OffCpuInterval, type OffCpuSummary } from './profile'

const DRAIN_MS = 50


interface OnCpuSample {
  tid: number
  pid: number
  time: bigint
  period: number
  user?: bigint[]
  kernel?: bigint[]
}

/**
 * Where threads wait: per-thread off-CPU intervals from the kernel's context-switch records, each
 * with the stack at the switch-out where the kernel gives it (the `context-switches` event), split
 * into run-queue delay and blocked time; in `'wall'` mode with cpu-clock samples for the time on CPU.
 *
 * ```ts
 * const p = new OffCpuProfiler({ mode: 'wall' })
 * p.start(); await work(); const profile = await p.stop()
 * console.log(profile.top(10).table, profile.offCpu.threads)
 * ```
 */
export class OffCpuProfiler {
  readonly #o: CheckedOptions
  /** Stacks at switch-out: the context-switches event must count in the kernel (root, CAP_PERFMON, paranoid <= 1). */
  readonly #stacks: boolean
  readonly #kernel: boolean
  readonly #warnings: string[] = []
  #counters: Counter[] = []
  #rings: { sampler: Sampler; kind: 'switch' | 'cpu' }[] = []
  #timer: NodeJS.Timeout | undefined
  #events = new Map<number, SwitchEvent[]>()
  #pids = new Map<number, number>()
  #onCpu: OnCpuSample[] = []
  #comms = new Map<number, string>()
  #lost = 0
  #start = 0n
  #startMs = 0
  #ringExp = 0
  #runWarnings: string[] = []
  /** The first error of a drain in the timer, thrown by stop(). */
  #failure: unknown
  /** Command mode (`attachChild`): the command's pid, its executable mappings by pid (from mmap records), and when each new task was forked. */
  #child: number | undefined
  #mmaps = new Map<number, MmapRec[]>()
  /** Profiling another process (scope 'process' with its pid): its mmap records are kept. */
  #other = false
  #born = new Map<number, bigint>()

  constructor(options?: OffCpuOptions, defaultMode: 'wall' | 'off-cpu' = 'off-cpu') {
    this.#o = checkOptions(options, defaultMode)
    const allowed = isPerfPrivileged() || (paranoidLevel() ?? 2) <= 1
    this.#stacks = allowed
    if (!allowed) {
      if (this.#o.kernel === true)
        throw new PerfEventError('Kernel stacks at switch-out are not allowed to this process', 'EACCES', {
          hint: `kernel.perf_event_paranoid is ${paranoidLevel() ?? 'unreadable'}: stacks at switch-out need <= 1, root or CAP_PERFMON (sudo sysctl kernel.perf_event_paranoid=1). Leave options.kernel unset for the reduced view (exact intervals without stacks).`,
        })
      this.#warnings.push(
        `Reduced view: kernel.perf_event_paranoid is ${paranoidLevel() ?? 'unreadable'} and this process lacks CAP_PERFMON, so the kernel gives no stacks at switch-out: ` +
          'the profile has the exact off-CPU intervals of each thread, run queue vs blocked, without stacks, and the event loop idle wait counts as blocked. ' +
          'For stacks: sudo sysctl kernel.perf_event_paranoid=1, or run with CAP_PERFMON.',
      )
    }
    this.#kernel = allowed && this.#o.kernel !== false
  }

  /** Whether profiling is on. */
  get running(): boolean {
    return this.#counters.length > 0
  }

  /** Opens the events (on the thread, or on every thread of the process) and starts recording. */
  start(): void {
    this.#reset()
    // Another process: its executable mappings now and (mmap records) later, so that it can still be
    // symbolized if it exits before stop(), as the CPU profiler does.
    const other = this.#o.scope === 'process' && this.#o.pid !== process.pid
    if (other) this.#mmaps.set(this.#o.pid, procMaps(this.#o.pid))
    this.#other = other
    try {
      this.#open('switch')
      if (this.#o.mode === 'wall') this.#open('cpu')
    } catch (e) {
      this.#closeAll()
      throw e
    }
    this.#startMs = Date.now()
    this.#start = process.hrtime.bigint()
    for (const c of this.#counters) c.enable()
    this.#startTimer()
  }

  /**
   * @internal `profileCommand` with `mode: 'wall' | 'off-cpu'`: opens one event per CPU (per kind) on
   * `pid`, stopped before its exec, enabled by the kernel at that exec and inherited by its threads
   * and children, with mmap records (to symbolize it after it exits) and fork records (a new task
   * waits in the run queue until its first switch-in, not since the start). Then `stop()` once it has exited.
   */
  attachChild(pid: number): void {
    this.#reset()
    this.#child = pid
    const child = { inherit: 'newChild', onExecve: 'enable', extraRecord: { comm: true, task: true, mmap: { code: true } } } as const
    try {
      for (const kind of this.#o.mode === 'wall' ? (['switch', 'cpu'] as const) : (['switch'] as const)) {
        const [event, opts] = this.#event(kind)
        for (const cpu of onlineCpus()) {
          const c = new Counter(event, { pid, cpu }, { ...opts, ...child, extraRecord: { ...opts.extraRecord, ...child.extraRecord } })
          this.#counters.push(c)
          this.#rings.push({ sampler: this.#ring(c), kind })
        }
      }
    } catch (e) {
      this.#closeAll()
      throw e
    }
    this.#startMs = Date.now()
    this.#start = process.hrtime.bigint()
    this.#startTimer()
  }

  /** Throws while running; else clears what an earlier run left. */
  #reset(): void {
    if (this.running) throw new PerfEventError('The profiler is already running', 'ERR_PROFILER_RUNNING', { hint: 'Call stop() first: a profiler runs once at a time.' })
    this.#events = new Map()
    this.#pids = new Map()
    this.#onCpu = []
    this.#comms = new Map()
    this.#lost = 0
    this.#ringExp = 0
    this.#runWarnings = []
    this.#failure = undefined
    this.#child = undefined
    this.#mmaps = new Map()
    this.#born = new Map()
    this.#other = false
  }

  #startTimer(): void {
    // A drain that fails in the timer must not become an uncaught exception: stop() throws it.
    this.#timer = setInterval(() => {
      try {
        this.#drain()
      } catch (e) {
        this.#failure ??= e
        clearInterval(this.#timer)
      }
    }, DRAIN_MS)
    this.#timer.unref()
  }

  /** Bytes of user stack copied per switch-out: none for a command, whose stacks cannot be unwound after it exits. */
  #userStack(): number {
    return this.#child === undefined ? this.#o.userStack : 0
  }

  /** The event and options of a ring kind: switch records (with stacks where allowed), or on-CPU samples. */
  #event(kind: 'switch' | 'cpu'): [EventInput, CounterOptions] {
    const o = this.#o
    const common: CounterOptions = { recordIdFormat: { task: true, time: true }, recordIdAll: true, timer: 'monotonic' }
    const exclude = this.#kernel ? { kernel: false } : { kernel: true, hv: true }
    if (kind === 'cpu')
      return ['cpu-clock', { ...common, sampleOn: { freq: o.freq }, sampleFormat: { period: true, callChain: { excludeKernel: !this.#kernel, maxStackFrames: o.maxStackFrames } }, exclude }]
    const extraRecord = { ctxSwitch: true, comm: true, ...(this.#other ? { mmap: { code: true } } : {}) }
    // Without stacks: the switch records alone, on a dummy event (any permission level gives them).
    if (!this.#stacks) return ['dummy', { ...common, sampleOn: { count: 1 }, extraRecord, exclude: { kernel: true, hv: true } }]
    const stack = this.#userStack() ? { userStack: this.#userStack(), userRegs: UNWIND_REGS_MASK } : {}
    return [
      'context-switches',
      // The event fires in the kernel: it counts there even when the chain leaves kernel frames out.
      { ...common, sampleOn: { count: 1 }, sampleFormat: { callChain: { excludeKernel: !this.#kernel, maxStackFrames: o.maxStackFrames }, ...stack }, extraRecord, exclude: { kernel: false } },
    ]
  }

  #open(kind: 'switch' | 'cpu'): void {
    const [event, opts] = this.#event(kind)
    if (this.#o.scope === 'thread') {
      const c = new Counter(event, this.#o.tid === undefined ? undefined : { pid: this.#o.tid, cpu: 'all' }, opts)
      this.#counters.push(c)
      this.#rings.push({ sampler: this.#ring(c), kind })
      return
    }
    // One event per thread per CPU, inherited by later threads; per CPU one ring (an inherited event on all CPUs cannot be mapped).
    const opened = openOnProcess(this.#o.pid, (target, inherit) => new Counter(event, target, { ...opts, inherit }), (c) => this.#rings.push({ sampler: this.#ring(c), kind }))
    this.#counters.push(...opened)
  }

  /** Maps the ring of `c` (rings.ts `mapRing`: halved while the memlock limit refuses it, unless chosen). */
  #ring(c: Counter): Sampler {
    const size = { want: this.#o.ringExp ?? (this.#userStack() ? 10 : 7), chosen: this.#o.ringExp !== undefined, exp: this.#ringExp }
    const s = mapRing(c, size, this.#runWarnings)
    this.#ringExp = size.exp
    return s
  }

  #closeAll(): void {
    for (const r of this.#rings) r.sampler.close()
    for (const c of this.#counters) c.close()
    this.#rings = []
    this.#counters = []
  }

  #thread(tid: number, pid: number): SwitchEvent[] {
    let list = this.#events.get(tid)
    if (!list) {
      this.#events.set(tid, (list = []))
      this.#pids.set(tid, pid)
    }
    return list
  }

  #drain(): void {
    for (const { sampler, kind } of this.#rings) {
      for (const r of sampler.batch().records()) {
        if (r.type === 'ctxSwitch') {
          const task = r.recordId?.task
          const time = r.recordId?.time
          if (task && time !== undefined) this.#thread(task.tid, task.pid).push(r.out ? { kind: 'out', time, preempt: r.preempt } : { kind: 'in', time })
        } else if (r.type === 'sample') {
          const task = r.recordId.task
          const time = r.recordId.time
          if (!task || time === undefined) continue
          let user: bigint[] | undefined
          let kernel: bigint[] | undefined
          for (const c of r.callChain ?? []) {
            if (c.context === 'kernel') kernel = c.ips
            else if (c.context === 'user') user = c.ips
          }
          if (kind === 'cpu') this.#onCpu.push({ tid: task.tid, pid: task.pid, time, period: Number(r.period ?? 0n), user, kernel })
          else this.#thread(task.tid, task.pid).push({ kind: 'stack', time, stack: { user, kernel, userStack: r.userStack, userRegs: r.userRegs?.values } })
        } else if (r.type === 'lostRecords') this.#lost += Number(r.lostRecords)
        else if (r.type === 'comm') this.#comms.set(r.task.tid, r.comm)
        else if (r.type === 'fork') {
          this.#born.set(r.task.tid, r.time)
          this.#pids.set(r.task.tid, r.task.pid)
        } else if (r.type === 'mmap' && r.executable) {
          let list = this.#mmaps.get(r.task.pid)
          if (!list) this.#mmaps.set(r.task.pid, (list = []))
          list.push({ addr: r.addr, end: r.addr + r.len, pageOffset: r.pageOffset, file: r.file })
        }
      }
    }
  }

  /** Stops recording, pairs the switch records into intervals, symbolizes (off the JS thread) and returns the profile. */
  async stop(): Promise<OffCpuProfile> {
    if (!this.running) throw new PerfEventError('The profiler is not running', 'ERR_PROFILER_NOT_RUNNING', { hint: 'Call start() first.' })
    for (const c of this.#counters) c.disable()
    const end = process.hrtime.bigint()
    const endMs = Date.now()
    clearInterval(this.#timer)
    const fds = this.#counters.length
    try {
      if (this.#failure === undefined) this.#drain()
    } finally {
      this.#closeAll()
    }
    if (this.#failure !== undefined) throw this.#failure
    const o = this.#o
    const warnings = [...this.#warnings, ...this.#runWarnings]
    if (this.#lost > 0) warnings.push(`${this.#lost} records lost: the ring (2^${this.#ringExp} pages) filled before it was drained; intervals around them are left out. Use a larger ringExp, or await between chunks of work.`)

    // Intervals per thread, then every sample (on-CPU and off-CPU) in time order.
    const intervals: RawInterval[] = []
    let unmatched = 0
    for (const [tid, evs] of this.#events) {
      // A task forked meanwhile is runnable from its fork to its first switch-in: run-queue delay.
      const born = this.#born.get(tid)
      const r = threadIntervals(tid, born === undefined ? evs : [{ kind: 'out', time: born, preempt: true }, ...evs], this.#start, end)
      for (const iv of r.intervals) intervals.push(iv)
      unmatched += r.unmatched
    }
    if (unmatched > 0) warnings.push(`${unmatched} switch-outs had no switch-in (records lost in between): left out.`)
    const userFrames = new UserFrames()
    type Item = { time: bigint; tid: number; pid: number; weight: number; user?: bigint[]; kernel?: bigint[]; iv?: RawInterval }
    const items: Item[] = this.#onCpu.map((s) => ({ time: s.time, tid: s.tid, pid: s.pid, weight: s.period, user: s.user, kernel: s.kernel }))
    for (const iv of intervals)
      // At its end, as a clock sample is (its weight is the time before it): exports place it from start to end.
      items.push({ time: iv.end, tid: iv.tid, pid: this.#pids.get(iv.tid) ?? (o.scope === 'process' ? o.pid : iv.tid), weight: Number(iv.end - iv.start), user: iv.stack && userFrames.of(this.#pids.get(iv.tid) ?? (o.scope === 'process' ? o.pid : iv.tid), iv.stack), kernel: iv.stack?.kernel, iv })
    items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
    const store = new SampleStore()
    // The first sample sets the store's time origin: a sample of weight 0 at the start of profiling
    // (on the first item's thread, so that no extra thread appears), left out below.
    if (items.length) store.add(items[0].tid, items[0].pid, this.#start, 0, undefined, undefined)
    for (const it of items) store.add(it.tid, it.pid, it.time, it.weight, it.user, it.kernel)

    // The profiled process: the command, the target thread's (scope 'thread'), or the target process.
    const child = this.#child
    const target = child ?? (o.scope === 'thread' ? (o.tid === undefined ? process.pid : (this.#pids.get(o.tid) ?? o.tid)) : o.pid)
    // V8 writes this process's perf map only when started with --perf-basic-prof; another process's map is read when it has one.
    const ownMap = perfMapEnabled()
    if (child === undefined && target === process.pid && !ownMap)
      warnings.push(PERF_MAP_HINT)
    const uids = [...new Set([process.geteuid?.() ?? 0, effectiveUid(target) ?? 0])]
    const symbolize = userSymbolizer({ mmaps: this.#mmaps, uids: () => uids, warnings, perfMap: (pid) => pid !== process.pid || ownMap })
    const b = await buildStacks({ samples: store, symbolizeUser: symbolize, comms: this.#comms })

    // The origin marker goes; each off-CPU sample gets its state on top of its stack.
    const keep: number[] = []
    const state: OffCpuState[] = []
    items.forEach((it, i) => {
      const k = i + 1
      if (!it.iv) return void keep.push(k)
      const s = stateOf(b, b.sampleStack[k], it.iv.preempt, it.iv.stack !== undefined)
      state[i] = s
      b.sampleStack[k] = b.stack(b.sampleStack[k], b.frame(STATE_FRAMES[s]))
      if (s !== 'idle' || o.idle) keep.push(k)
    })
    // In place, by index: a spread of a long column would overflow the call stack (~120 000 arguments).
    for (const col of [b.sampleStack, b.sampleThread, b.sampleTime, b.sampleWeight]) {
      for (let j = 0; j < keep.length; j++) col[j] = col[keep[j]]
      col.length = keep.length
    }

    // Exact per-thread figures from the intervals (idle ones included even when left out of the samples).
    const names = new Map(b.threads.map((t) => [t.tid, t.name]))
    const per = new Map<number, { runQueueNs: number; blockedNs: number; idleNs: number; onCpuNs: number; intervals: number }>()
    const row = (tid: number) => {
      let r = per.get(tid)
      if (!r) per.set(tid, (r = { runQueueNs: 0, blockedNs: 0, idleNs: 0, onCpuNs: 0, intervals: 0 }))
      return r
    }
    const out: OffCpuInterval[] = []
    items.forEach((it, i) => {
      const r = row(it.tid)
      if (!it.iv) return void (r.onCpuNs += it.weight)
      const s = state[i]
      r[s === 'runQueue' ? 'runQueueNs' : s === 'idle' ? 'idleNs' : 'blockedNs'] += it.weight
      r.intervals++
      out.push({ tid: it.tid, start: Number(it.iv.start - this.#start), duration: it.weight, state: s, ...(it.iv.cut ? { cut: it.iv.cut } : {}) })
    })
    const threads: OffCpuThread[] = [...per].map(([tid, r]) => ({
      tid,
      pid: this.#pids.get(tid) ?? target,
      name: names.get(tid) ?? this.#comms.get(tid) ?? `thread ${tid}`,
      offCpuNs: r.runQueueNs + r.blockedNs + r.idleNs,
      runQueueNs: r.runQueueNs,
      blockedNs: r.blockedNs,
      idleNs: r.idleNs,
      ...(o.mode === 'wall' ? { onCpuNs: r.onCpuNs } : {}),
      intervals: r.intervals,
    }))
    const view = this.#stacks ? 'stacks' : 'reduced'
    const meta: OffCpuMeta = {
      event: o.mode,
      mode: o.mode,
      view,
      idle: o.idle ? 'labelled' : 'left out',
      unit: 'ns',
      freq: o.mode === 'wall' ? o.freq : undefined,
      kernel: this.#kernel,
      scope: child === undefined ? o.scope : 'command',
      fds,
      pid: target,
      startTime: this.#startMs,
      endTime: endMs,
    }
    const lost: LostSamples = { count: this.#lost, source: 'PERF_RECORD_LOST', records: this.#lost }
    return new OffCpuProfile(b, meta, lost, warnings, { view, startNs: this.#start, endNs: end, threads, intervals: out, unmatched })
  }
}

/**
 * Profiles `fn` (sync or async) on this thread by wall time (default) or off-CPU time and returns the
 * symbolized profile: weights in ns, each off-CPU interval under the stack at its switch-out, topped
 * by its state (`[blocked]`, `[run queue]`, `[idle]`).
 *
 * ```ts
 * const p = await profileWall(() => work())
 * console.log(p.top(10).table)
 * await p.write('work.svg')
 * ```
 */
export async function profileWall(fn: () => unknown, options?: OffCpuOptions): Promise<OffCpuProfile> {
  if (typeof fn !== 'function') throw typeError('a function', 'fn', fn)
  const p = new OffCpuProfiler(options, 'wall')
  p.start()
  try {
    await fn()
  } catch (e) {
    await p.stop().catch(() => undefined)
    throw e
  }
  return p.stop()
}
