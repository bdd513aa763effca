import { constants } from 'node:os'
import { denoPermissionHint, hintFor } from './hints'
import type { ErrorContext } from './context'

export { describe, rangeError, typeError } from '../events/check'
export { hasHardwarePmu, hintFor } from './hints'

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

export type { ErrorContext } from './context'

/** Native errors carry `code` and a message `op|errno|text`. */
export function fromNative(err: unknown, ctx: ErrorContext): Error {
  if (!(err instanceof Error) || typeof (err as { code?: unknown }).code !== 'string') return err as Error
  const code = (err as Error & { code: string }).code
  const [syscall = '', errnoText = '0', ...rest] = err.message.split('|')
  const text = rest.join('|') || err.message
  if (code === 'ERR_INVALID_ARG') return new TypeError(`${text} (${ctx.what})`)
  if (code === 'ERR_CLOSED') return closedError(ctx.what)
  const errno = Number(errnoText) || (Object.hasOwn(constants.errno, code) ? (constants.errno as Record<string, number>)[code] : 0)
  const message =
    code === 'ERR_UNSUPPORTED_BY_BUILD'
      ? `${ctx.what}: the loaded build does not support an option in use`
      : `${syscall} failed for ${ctx.what}: ${text.replace(/ \(os error \d+\)$/, '')} (${code})`
  let hint: string | undefined
  try {
    hint = hintFor(code, ctx, syscall)
  } catch (e) {
    // Writing the hint reads /proc and /sys: under Deno without --allow-read that is refused.
    if (!isDenoPermissionError(e)) throw e
    hint = `${ctx.what}: ${code}. ${denoPermissionHint('read access to /sys and /proc, which the full hint reads', (e as Error).message)}`
  }
  return new PerfEventError(message, code, { errno, syscall, hint, cause: err })
}

/** Deno's permission error classes (Deno 2: NotCapable; Deno 1: PermissionDenied). */
export function isDenoPermissionError(e: unknown): e is Error {
  return e instanceof Error && (e.name === 'NotCapable' || e.name === 'PermissionDenied')
}

/** Wraps a Deno permission error while reading `path` into a PerfEventError with the flag to add; other errors pass through. */
export function wrapDenoPermission(e: unknown, path: string, what = `read access to ${path}`): unknown {
  if (!isDenoPermissionError(e)) return e
  return new PerfEventError(`Deno denied ${what}: ${e.message}`, 'ERR_DENO_PERMISSION', { syscall: 'open', hint: denoPermissionHint(what, e.message), cause: e })
}

export function closedError(what: string): PerfEventError {
  return new PerfEventError(`${what} is closed`, 'ERR_CLOSED', { hint: `Create a new ${what}; close() released its file descriptor.` })
}
