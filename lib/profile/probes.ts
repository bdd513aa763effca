/**
 * What the profiler reads of the system (procfs and sysfs): permission level, process and thread
 * facts, online CPUs. Each probe answers a safe default when the file cannot be read.
 */
import { lstatSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/** kernel.perf_event_paranoid (2, the common default, when it cannot be read). */
export function paranoid(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim())
  } catch {
    return 2
  }
}

/** CAP_PERFMON (38) or CAP_SYS_ADMIN (21) in the effective set. */
export function privileged(): boolean {
  if (process.getuid?.() === 0) return true
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (!m) return false
    const caps = BigInt(`0x${m[1]}`)
    return ((caps >> 38n) & 1n) === 1n || ((caps >> 21n) & 1n) === 1n
  } catch {
    return false
  }
}

/** Whether a directory entry exists at `path` (a dangling symlink too), without following or opening it. */
export function present(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined
}

/** The effective uid of process `pid` (`Uid:` in its status), or this process's when it cannot be read. */
export function effectiveUid(pid: number): number {
  try {
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    if (m) return Number(m[1])
  } catch {
    // gone
  }
  return process.geteuid?.() ?? 0
}

/** A thread's name; for a thread that has ended, its process's (threads inherit it). */
export function threadName(pid: number, tid: number): string {
  for (const path of [`/proc/${pid}/task/${tid}/comm`, `/proc/${pid}/comm`]) {
    try {
      return readFileSync(path, 'utf8').trim()
    } catch {
      // ended
    }
  }
  return `thread ${tid}`
}

/** CPUs online now (`/sys/devices/system/cpu/online`, e.g. `0-3,6`). */
export function onlineCpus(): number[] {
  try {
    const out: number[] = []
    for (const part of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
      const [a, b] = part.split('-').map(Number)
      for (let c = a; c <= (b ?? a); c++) out.push(c)
    }
    return out
  } catch {
    return [...Array(cpus().length).keys()]
  }
}
