import { constants } from 'node:os'
import { closedHint, denoPermissionHint, hintFor, type HintFacts } from './hints'
import type { ErrorContext } from './context'
import { PerfEventError } from './perf-event-error'
import { exists, isDenoPermissionError } from '../system/files'
import { hasHardwarePmu, paranoidLevel, perfCgroupMounts, perfSysctl, pmuType } from '../system/kernel'
import { processOwner, uid } from '../system/privilege'

export { describe, rangeError, typeError } from '../events/check'
export { PerfEventError, type PerfErrorCode } from './perf-event-error'
export { isDenoPermissionError, wrapDenoPermission } from '../system/files'

/** What hints read about this machine: lib/system/'s readers. */
const FACTS: HintFacts = { uid, paranoidLevel, processOwner, perfSysctl, perfCgroupMounts, hasHardwarePmu, pmuType, exists }

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
    hint = hintFor(code, ctx, syscall, FACTS)
  } catch (e) {
    // Writing the hint reads /proc and /sys: under Deno without -A lib/system/ refuses with ERR_DENO_PERMISSION.
    const denied = e instanceof PerfEventError && e.code === 'ERR_DENO_PERMISSION' ? e.cause : e
    if (!isDenoPermissionError(denied)) throw e
    hint = `${ctx.what}: ${code}. ${denoPermissionHint('read access to /sys and /proc, which the full hint reads', denied.message)}`
  }
  return new PerfEventError(message, code, { errno, syscall, hint, cause: err })
}

export function closedError(what: string): PerfEventError {
  return new PerfEventError(`${what} is closed`, 'ERR_CLOSED', { hint: closedHint(what) })
}
