/** The package's error class and its codes (no imports: every room may throw it). */

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
  | 'ERR_FD_REPLACED'
  | 'ERR_DENO_PERMISSION'
  | 'ERR_SYMBOLIZER_MISSING'
  | 'ERR_SYMBOLIZER_FAILED'
  | 'ERR_PROFILER_RUNNING'
  | 'ERR_PROFILER_NOT_RUNNING'
  | 'ERR_PERF_MAP_UNSAFE'
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

  constructor(message: string, code: PerfErrorCode, options?: { errno?: number; syscall?: string; hint?: string; cause?: unknown } | null) {
    const o = options ?? {}
    super(o.hint ? `${message}\nHint: ${o.hint}` : message, o.cause === undefined ? undefined : { cause: o.cause })
    this.code = code
    this.errno = o.errno ?? 0
    this.syscall = o.syscall ?? ''
    this.hint = o.hint
  }
}
