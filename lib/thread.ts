import { readFileSync, readlinkSync, readdirSync } from 'node:fs'
import { typeError } from './errors'

/**
 * The kernel thread id (tid) of the calling thread, read from `/proc/thread-self` (Linux 3.17+).
 * In the main thread it equals `process.pid`; in a worker it is the worker's own thread. Post it to
 * the main thread to count the worker from there: `new Counter('task-clock', { pid: tid })`.
 */
export function currentTid(): number {
  // "/proc/thread-self" -> "<pid>/task/<tid>"
  const link = readlinkSync('/proc/thread-self')
  const tid = Number(link.slice(link.lastIndexOf('/') + 1))
  if (!Number.isInteger(tid) || tid <= 0) throw new Error(`unexpected /proc/thread-self link: ${link}`)
  return tid
}

/** The thread ids of a process (`/proc/<pid>/task`), or an empty list when it is gone. */
export function threadIds(pid: number): number[] {
  if (!Number.isInteger(pid) || pid <= 0) throw typeError('a process id (positive integer)', 'pid', pid)
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
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').replace(/\n$/, '')
  } catch {
    return undefined
  }
}
