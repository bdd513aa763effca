/**
 * What this process may see, read from /proc and /sys. The same facts as lib/profile/profiler.ts's
 * private `paranoid()`, `privileged()` and `onlineCpus()`: to be folded into one shared module
 * when profiler.ts is split (they are not exported there).
 */
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

export function paranoid(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim())
  } catch {
    return 2
  }
}

/** CAP_PERFMON (38) or CAP_SYS_ADMIN (21) in the effective set, or root. */
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
