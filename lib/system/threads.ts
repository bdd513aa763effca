/** Threads of a process from procfs: the calling thread's id, a process's thread ids and thread names. */
import { PerfEventError } from '../errors/perf-event-error'
import { procfsHint } from '../errors/hints'
import { rangeError, typeError } from '../events/check'
import { listDir, readLink, readRaw } from './files'

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
    target = readLink(link)
  } catch (e) {
    if (e instanceof PerfEventError) throw e
    const code = (e as NodeJS.ErrnoException).code ?? 'ENOENT'
    throw new PerfEventError(`Cannot read ${link} to find the calling thread's id (${code})`, code, {
      errno: Math.abs((e as NodeJS.ErrnoException).errno ?? 0),
      syscall: 'readlink',
      hint: procfsHint('thread-self', link),
      cause: e,
    })
  }
  const tid = Number(target.slice(target.lastIndexOf('/') + 1))
  if (!Number.isInteger(tid) || tid <= 0)
    throw new PerfEventError(`Unexpected ${link} link: ${JSON.stringify(target)} (expected "<pid>/task/<tid>")`, 'ERR_PERF', {
      syscall: 'readlink',
      hint: procfsHint('not-procfs', link),
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
  return listDir(`/proc/${pid}/task`)
    .map(Number)
    .filter((t) => Number.isInteger(t))
    .sort((a, b) => a - b)
}

/** A thread's name (`/proc/<pid>/task/<tid>/comm`, at most 15 bytes), or `undefined` when it is gone. */
export function threadName(pid: number, tid: number): string | undefined {
  checkId(pid, 'pid', 'a process id')
  checkId(tid, 'tid', 'a thread id')
  return readComm(`/proc/${pid}/task/${tid}/comm`)
}

/** A comm file's name (the kernel ends it with one newline; the name itself may end in spaces). */
function readComm(path: string): string | undefined {
  return readRaw(path)?.replace(/\n$/, '')
}

/**
 * A thread's name for a report: its own, or for a thread that has ended its process's (threads
 * inherit it; `processComm` when the process has ended too, e.g. from its comm record), or
 * `thread <tid>` when all are gone. Not checked: `pid` and `tid` come from the kernel.
 */
export function threadLabel(pid: number, tid: number, processComm?: string): string {
  return readComm(`/proc/${pid}/task/${tid}/comm`) ?? readComm(`/proc/${pid}/comm`) ?? processComm ?? `thread ${tid}`
}
