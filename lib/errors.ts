import { constants, release } from 'node:os'
import { readFileSync, existsSync } from 'node:fs'

/**
 * Stable error codes of this package. OS errors keep their errno name
 * (`EACCES`, `ENOENT`, `EINVAL`, `E2BIG`, `EOPNOTSUPP`, `EMFILE`, `EBUSY`,
 * `ENOSYS`, `ESRCH`…); conditions found by the package have `ERR_*` codes.
 */
export type PerfErrorCode =
  | 'ERR_CLOSED'
  | 'ERR_UNKNOWN_EVENT'
  | 'ERR_UNSUPPORTED_BY_BUILD'
  | 'ERR_COUNTER_ERROR_STATE'
  | 'ERR_SAMPLER_EXISTS'
  | 'ERR_NATIVE_LOAD'
  | 'ERR_INVALID_ARG'
  | 'ERR_PERF'
  | (string & {})

/**
 * Every failure of the kernel, of the native layer or of event lookup.
 * Argument mistakes are `TypeError`/`RangeError` instead.
 */
export class PerfEventError extends Error {
  override name = 'PerfEventError'
  /** Stable code: an errno name such as `EACCES`, or an `ERR_*` code. */
  readonly code: PerfErrorCode
  /** The errno number, when the kernel returned one (else 0). */
  readonly errno: number
  /** The call that failed: `perf_event_open`, `ioctl`, `read`, `prctl`, `open`, `lookup`… */
  readonly syscall: string
  /** What to do about it, when there is something to do. */
  readonly hint: string | undefined

  constructor(message: string, code: PerfErrorCode, options: { errno?: number; syscall?: string; hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}\nHint: ${options.hint}` : message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.errno = options.errno ?? 0
    this.syscall = options.syscall ?? ''
    this.hint = options.hint
  }
}

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
  /** Options in use whose minimum Linux version exceeds the build's (for ERR_UNSUPPORTED_BY_BUILD). */
  unsupported?: () => string | undefined
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

const PARANOID: Record<string, string> = {
  '-1': 'no restrictions',
  '0': 'CPU-wide counting allowed, raw tracepoint access needs privilege',
  '1': 'user and kernel counting of your own processes only',
  '2': 'user-space counting of your own processes only (exclude the kernel: add ":u" or exclude: { kernel: true })',
  '3': 'unprivileged perf_event_open is blocked entirely (Debian/Ubuntu/Android patch)',
  '4': 'unprivileged perf_event_open is blocked entirely',
}

/** The hardware PMU directories that exist on machines with one. */
export function hasHardwarePmu(): boolean {
  const root = '/sys/bus/event_source/devices'
  return ['cpu', 'cpu_core', 'cpu_atom', 'armv8_pmuv3', 'armv8_pmuv3_0', 'armv8_cortex_a53', 'armv8_cortex_a72'].some((d) =>
    existsSync(`${root}/${d}`),
  )
}

function permissionHint(ctx: ErrorContext): string {
  const level = readProc('/proc/sys/kernel/perf_event_paranoid')
  const parts: string[] = []
  if (level !== undefined) parts.push(`kernel.perf_event_paranoid is ${level}: ${PARANOID[level] ?? 'a custom level'}.`)
  if (ctx.eventType === 'tracepoint' || ctx.eventType === 'kprobe' || ctx.eventType === 'uprobe')
    parts.push('Tracepoints and probes need root or CAP_PERFMON (Linux 5.8+) / CAP_SYS_ADMIN, and read access to tracefs.')
  else if (level !== undefined && Number(level) >= 2 && !ctx.excludeKernel)
    parts.push('At this level, counting the kernel needs privilege: add ":u" to the event or pass exclude: { kernel: true }.')
  parts.push(
    'Options: lower it (sudo sysctl kernel.perf_event_paranoid=1), grant CAP_PERFMON to node (sudo setcap cap_perfmon+ep "$(command -v node)"), or run as root. In a container, the default seccomp profile blocks perf_event_open: use --cap-add PERFMON or a custom seccomp profile.',
  )
  return parts.join(' ')
}

function mmapHint(): string {
  const kb = readProc('/proc/sys/kernel/perf_event_mlock_kb')
  return `The ring buffer could not be mapped: each sampler locks (2^exp + 1) pages, limited by kernel.perf_event_mlock_kb${kb ? ` (${kb} KiB per user)` : ''} and RLIMIT_MEMLOCK (ulimit -l). Use a smaller exp, close other samplers, or raise the limits (sudo sysctl kernel.perf_event_mlock_kb=…, or CAP_IPC_LOCK).`
}

function hintFor(code: string, ctx: ErrorContext, syscall = ''): string | undefined {
  if (syscall === 'mmap' && (code === 'EPERM' || code === 'ENOMEM' || code === 'EACCES')) return mmapHint()
  if (syscall === 'mmap' && code === 'EINVAL' && ctx.inheritAllCpus)
    return 'The kernel does not map inherited counters that follow a task on every CPU (all children would write into one ring). Open one counter per CPU ({ pid, cpu: N }, with the same inherit option) and sample each.'
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return permissionHint(ctx)
    case 'ENOENT':
      if (ctx.eventType === 'hardware' || ctx.eventType === 'hwCache' || ctx.eventType === 'raw') {
        return hasHardwarePmu()
          ? "This CPU's PMU does not implement this generic event; try a raw event or another generic one."
          : "No hardware PMU on this machine (VM or container?): hardware events such as 'cycles' and 'instructions' are unavailable. Use software events such as 'task-clock' or 'cpu-clock'."
      }
      if (ctx.eventType === 'kprobe' || ctx.eventType === 'uprobe')
        return `The ${ctx.eventType} PMU is missing (/sys/bus/event_source/devices/${ctx.eventType}); the kernel needs CONFIG_${ctx.eventType.toUpperCase()}_EVENTS.`
      return 'The kernel does not know this event on this machine.'
    case 'EINVAL': {
      const max = readProc('/proc/sys/kernel/perf_event_max_sample_rate')
      if (ctx.freq !== undefined && max !== undefined && ctx.freq > BigInt(max))
        return `sampleOn.freq ${ctx.freq} is above kernel.perf_event_max_sample_rate (${max}): lower it, or raise the limit (sudo sysctl kernel.perf_event_max_sample_rate=${ctx.freq}).`
      return `The kernel (${release()}) rejected the attributes: an invalid combination (e.g. a per-CPU-only PMU such as msr opened for a thread: pass { pid: 'all', cpu: N }), or an option this kernel does not know.`
    }
    case 'E2BIG':
      return `The running kernel (${release()}) is older than the perf_event_attr this build uses; use a build variant for an older kernel.`
    case 'EOPNOTSUPP':
      return 'The PMU cannot do this: e.g. sampling on a PMU without an overflow interrupt, branch stacks, or an exclusion it does not support.'
    case 'EMFILE':
    case 'ENFILE':
      return 'Too many open files: close counters you no longer use (counter.close() or `using`), or raise the limit (ulimit -n).'
    case 'EBUSY':
      return 'The PMU resource is taken: all hardware breakpoint slots are in use, or another exclusive/pinned event holds the PMU.'
    case 'ENOSYS':
      return 'perf_event_open is not implemented here: a kernel without CONFIG_PERF_EVENTS, emulation (qemu-user), or a seccomp filter that blocks the syscall.'
    case 'ESRCH':
      return ctx.pid !== undefined ? `No process or thread with id ${ctx.pid}.` : 'No such process.'
    case 'EBADF':
      return ctx.cgroup !== undefined
        ? `target.cgroup (${ctx.cgroup}) is not a directory of a perf_event cgroup hierarchy: use a cgroup v2 directory, or one under the cgroup v1 perf_event controller (e.g. /sys/fs/cgroup/perf_event/...).`
        : undefined
    case 'ENODEV':
      return 'The PMU does not support this event or mode (for example, sampling or a per-task event on a per-CPU PMU).'
    case 'EOVERFLOW':
      return 'The requested size (user stack or call chain depth) is above the kernel limit (kernel.perf_event_max_stack).'
    case 'ERR_UNSUPPORTED_BY_BUILD':
      return ctx.unsupported?.()
    case 'ERR_COUNTER_ERROR_STATE':
      return 'The counter is pinned but could not be scheduled on the PMU (it is in error state); unpin it or free PMU counters.'
    case 'ERR_SAMPLER_EXISTS':
      return 'A counter has at most one sampler; reuse the existing one.'
    default:
      return undefined
  }
}

/** Native errors carry `code` and a message `op|errno|text`. */
export function fromNative(err: unknown, ctx: ErrorContext): Error {
  if (!(err instanceof Error) || typeof (err as { code?: unknown }).code !== 'string') return err as Error
  const code = (err as Error & { code: string }).code
  const [syscall = '', errnoText = '0', ...rest] = err.message.split('|')
  const text = rest.join('|') || err.message
  if (code === 'ERR_INVALID_ARG') return new TypeError(`${text} (${ctx.what})`)
  if (code === 'ERR_CLOSED') return closedError(ctx.what)
  const errno = Number(errnoText) || (constants.errno as Record<string, number>)[code] || 0
  const message =
    code === 'ERR_UNSUPPORTED_BY_BUILD'
      ? `${ctx.what}: the loaded build does not support an option in use`
      : `${syscall} failed for ${ctx.what}: ${text.replace(/ \(os error \d+\)$/, '')} (${code})`
  return new PerfEventError(message, code, { errno, syscall, hint: hintFor(code, ctx, syscall), cause: err })
}

export function closedError(what: string): PerfEventError {
  return new PerfEventError(`${what} is closed`, 'ERR_CLOSED', { hint: `Create a new ${what}; close() released its file descriptor.` })
}

/** `Expected X for Y but received Z` */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'bigint') return `the bigint ${value}n`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return typeof value
}

export function typeError(expected: string, name: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(value)}`)
}

export function rangeError(expected: string, name: string, value: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(value)}`)
}
