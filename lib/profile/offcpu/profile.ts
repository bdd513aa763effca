/**
 * The off-CPU/wall profile: a `Profile` in ns with the exact per-thread figures of the intervals.
 * @packageDocumentation
 */
import { Profile, type LostSamples, type ProfileMeta } from '../model'
import type { OffCpuState } from './intervals'

/** `profile.meta` of an off-CPU or wall profile: the event is `'wall'` or `'off-cpu'`, weights are ns. */
export interface OffCpuMeta extends ProfileMeta {
  readonly event: 'wall' | 'off-cpu'
  readonly mode: 'wall' | 'off-cpu'
  /**
   * `'stacks'`: each off-CPU interval carries the stack at its switch-out. `'reduced'`: the kernel
   * gives no stacks at switch-out to this process (perf_event_paranoid 2 without CAP_PERFMON): exact
   * intervals per thread, run queue vs blocked, without stacks (and the event loop's idle wait is
   * not told apart from blocking).
   */
  readonly view: 'stacks' | 'reduced'
  /** Whether the event loop's idle wait is in the samples (`[idle]`) or was left out (`idle: false`). */
  readonly idle: 'labelled' | 'left out'
}

/** One thread's time, in ns. */
export interface OffCpuThread {
  readonly tid: number
  readonly pid: number
  readonly name: string
  /** Off CPU in all: runQueueNs + blockedNs + idleNs. */
  readonly offCpuNs: number
  /** Runnable but waiting for a CPU (switched out by preemption). */
  readonly runQueueNs: number
  /** Blocked: sleeping, waiting for I/O, a lock, a page read. */
  readonly blockedNs: number
  /** The event loop waiting for work (epoll_wait under uv_run); 0 in the reduced view, where it counts as blocked. */
  readonly idleNs: number
  /** `'wall'` mode: on-CPU time as sampled by cpu-clock (ns). */
  readonly onCpuNs?: number
  /** Number of off-CPU intervals. */
  readonly intervals: number
}

/** One off-CPU interval. */
export interface OffCpuInterval {
  readonly tid: number
  /** ns from the start of profiling to the switch-out. */
  readonly start: number
  /** Length in ns (switch-out to switch-in, exact). */
  readonly duration: number
  readonly state: OffCpuState
  /** `'start'`/`'end'`: already off CPU at the start, or still at the end: cut to the profiled window. */
  readonly cut?: 'start' | 'end'
}

/** The exact off-CPU intervals behind an off-CPU or wall profile, per thread. */
export interface OffCpuSummary {
  readonly view: 'stacks' | 'reduced'
  /** The profiled window, CLOCK_MONOTONIC ns (`process.hrtime.bigint()`, and `perf record -k mono` times). */
  readonly startNs: bigint
  readonly endNs: bigint
  readonly threads: readonly OffCpuThread[]
  readonly intervals: readonly OffCpuInterval[]
  /** Switch-outs without a switch-in (records lost in between): left out, not guessed. */
  readonly unmatched: number
}

/** A `Profile` whose weights are ns of wall or off-CPU time, with the exact intervals in `offCpu`. */
export class OffCpuProfile extends Profile {
  declare readonly meta: OffCpuMeta
  readonly offCpu: OffCpuSummary

  /** @internal built by `OffCpuProfiler`. */
  constructor(b: ConstructorParameters<typeof Profile>[0], meta: OffCpuMeta, lost: LostSamples, warnings: string[], offCpu: OffCpuSummary) {
    super(b, meta, lost, warnings)
    this.offCpu = offCpu
  }
}
