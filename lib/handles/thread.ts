import { readFileSync, readlinkSync, readdirSync } from 'node:fs'
import { PerfEventError, rangeError, typeError } from '../errors/errors'

/**
 * The kernel thread id (tid) of the calling thread, read from `/proc/thread-self` (Linux 3.17+).
 * In the main thread it equals `process.pid`; in a worker it is the worker's own thread. Post it to
 * the main thread to count the worker from there: `new Counter('task-clock', { pid: tid })`.
 */
export function currentTid(): number {
  return tidOfLink('/proc/thread-self')
}

/** @internal The tid a thread-self link names (`<pid>/task/<tid>`); a PerfEventError with a hint when it cannot be read. */
export function tidOfLink(link: string): number {
  let target: string
  try {
    target = readlinkSync(link)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'ENOENT'
    throw new PerfEventError(`Cannot read ${link} to find the calling thread's id (${code})`, code, {
      errno: Math.abs((e as NodeJS.ErrnoException).errno ?? 0),
      syscall: 'readlink',
      hint: `${link} needs /proc mounted and Linux 3.17 or later. In a worker without it, take the tid from the main thread (threadIds(process.pid)) instead.`,
      cause: e,
    })
  }
  const tid = Number(target.slice(target.lastIndexOf('/') + 1))
  if (!Number.isInteger(tid) || tid <= 0)
    throw new PerfEventError(`Unexpected ${link} link: ${JSON.stringify(target)} (expected "<pid>/task/<tid>")`, 'ERR_PERF', {
      syscall: 'readlink',
      hint: `${link} is not procfs's thread-self link here: check that /proc is a procfs mount (mount -t proc proc /proc).`,
    })
  return tid
}

/** A process or thread id: TypeError for a non-integer, RangeError for one out of 1..2^31-1. */
function checkId(value: unknown, name: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(`${what} (a positive integer)`, name, value)
  if (value <= 0 || value > 0x7fffffff) throw rangeError(`${what} (a positive integer)`, name, value)
  return value
}

/** The thread ids of a process (`/proc/<pid>/task`), or an empty list when it is gone. */
export function threadIds(pid: number): number[] {
  checkId(pid, 'pid', 'a process id')
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .filter((t) => Number.isInteger(t))
      .sort((a, b) => a - b)
  } catch {
    return []
  }
}

/** A thread's name (`/proc/<pid>/task/<tid>/comm`, at most 15 bytes), or `undefined` when it is gone. */
export function threadName(pid: number, tid: number): string | undefined {
  checkId(pid, 'pid', 'a process id')
  checkId(tid, 'tid', 'a thread id')
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').replace(/\n$/, '')
  } catch {
    return undefined
  }
}
