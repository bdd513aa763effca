/** What a failing call was about: used to write the error's message and hint (lib/errors/errors.ts, lib/errors/hints.ts). */
/** What the failing call was about; used to write the message and the hint. */
export interface ErrorContext {
  /** What was being opened or used, e.g. `task-clock` or `counter`. */
  what: string
  /** Event descriptor type, when an event was being opened. */
  eventType?: string
  /** Sampling frequency asked for, if any. */
  freq?: bigint
  /** Kernel exclusion asked for (affects the paranoid hint). */
  excludeKernel?: boolean
  /** pid target, when one was given. */
  pid?: number
  /** cgroup target, when one was given. */
  cgroup?: string
  /** An inherited counter on every CPU (cpu 'all'): the kernel maps such counters only per CPU. */
  inheritAllCpus?: boolean
  /** A kernel-only event (context-switches…) refused where only user space may be counted: the hint says why. */
  kernelOnly?: boolean
  /** Any privilege-level exclusion asked for (`:u`, `:k`, options.exclude): some PMUs reject them. */
  excludeAny?: boolean
  /** Counting a whole CPU (pid 'all'): needs paranoid <= 0 or CAP_PERFMON. */
  cpuWide?: boolean
  /** The ELF file of a uprobe. */
  probePath?: string
  /** The operation that failed, when it has its own hint (e.g. `setFilter`). */
  operation?: string
  /** Probes whether a user-space-only counter of the calling thread opens (for the paranoid 3 hint). */
  userCountingWorks?: () => boolean | undefined
  /** Options in use whose minimum Linux version exceeds the build's (for ERR_UNSUPPORTED_BY_BUILD). */
  unsupported?: () => string | undefined
  /** Options in use whose minimum Linux version exceeds the running kernel's (for the kernel's EINVAL/E2BIG). */
  tooNewForKernel?: () => string | undefined
}
