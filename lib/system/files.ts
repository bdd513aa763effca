/**
 * Reading the kernel's files (procfs, sysfs, tracefs): the one place where a read that Deno refuses
 * (run without -A) becomes a `PerfEventError` with code `ERR_DENO_PERMISSION` and the flag to add.
 * Any other failure (missing, EACCES, gone) is an answer, not an error: `undefined`, `[]`, `false`.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync, lstatSync } from 'node:fs'
import { PerfEventError } from '../errors/perf-event-error'
import { denoPermissionHint } from '../errors/hints'

/** Deno's permission error classes (Deno 2: NotCapable; Deno 1: PermissionDenied). */
export function isDenoPermissionError(e: unknown): e is Error {
  return e instanceof Error && (e.name === 'NotCapable' || e.name === 'PermissionDenied')
}

/** Wraps a Deno permission error while reading `path` into a PerfEventError with the flag to add; other errors pass through. */
export function wrapDenoPermission(e: unknown, path: string, what = `read access to ${path}`): unknown {
  if (!isDenoPermissionError(e)) return e
  return new PerfEventError(`Deno denied ${what}: ${e.message}`, 'ERR_DENO_PERMISSION', { syscall: 'open', hint: denoPermissionHint(what, e.message), cause: e })
}

/** Runs `fn` (a system call Deno guards, such as `process.geteuid()`); Deno's refusal is thrown as ERR_DENO_PERMISSION naming `what`. */
export function denoGuarded<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw wrapDenoPermission(e, '', what)
  }
}

/** Runs `fn` on `path`; a Deno refusal is thrown as ERR_DENO_PERMISSION, any other error is handed to `otherwise`. */
function guarded<T>(path: string, fn: () => T, otherwise: (e: unknown) => T): T {
  try {
    return fn()
  } catch (e) {
    const wrapped = wrapDenoPermission(e, path)
    if (wrapped !== e) throw wrapped
    return otherwise(e)
  }
}

/** A file's text as it is, or `undefined` when it cannot be read (missing, not permitted, gone). */
export function readRaw(path: string): string | undefined {
  return guarded(path, () => readFileSync(path, 'utf8'), () => undefined)
}

/** A file's text without surrounding whitespace (a sysctl, a sysfs attribute), or `undefined` when it cannot be read. */
export function readText(path: string): string | undefined {
  return readRaw(path)?.trim()
}

/** A directory's entries, or `[]` when it cannot be read. */
export function listDir(dir: string): string[] {
  return guarded(dir, () => readdirSync(dir), () => [])
}

/** The errno code of listing `dir` (`EACCES`, `ENOENT`…), or `undefined` when it can be listed. */
export function accessCode(dir: string): string | undefined {
  return guarded(
    dir,
    () => (readdirSync(dir), undefined),
    (e) => (e as NodeJS.ErrnoException).code ?? 'EIO',
  )
}

/** Whether `path` exists (following links). */
export function exists(path: string): boolean {
  return guarded(path, () => existsSync(path), () => false)
}

/** Whether a directory entry exists at `path` (a dangling symlink too), without following or opening it. */
export function entryExists(path: string): boolean {
  return guarded(path, () => lstatSync(path, { throwIfNoEntry: false }) !== undefined, () => false)
}

/** Whether `path` is a directory (following links). */
export function isDirectory(path: string): boolean {
  return guarded(path, () => statSync(path).isDirectory(), () => false)
}

/** The owner uid of `path`, or `undefined` when it cannot be read. */
export function ownerOf(path: string): number | undefined {
  return guarded(path, () => statSync(path).uid, () => undefined)
}

/** A symbolic link's target; errors other than Deno's refusal are thrown as they are. */
export function readLink(path: string): string {
  return guarded(path, () => readlinkSync(path), (e) => {
    throw e
  })
}
