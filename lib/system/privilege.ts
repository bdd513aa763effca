/**
 * Who this process is to perf: its capabilities (`CapEff` in /proc/self/status), whether it is
 * privileged for perf (root, CAP_PERFMON or CAP_SYS_ADMIN), and who owns another process.
 * The paranoid level itself is a kernel setting: ./kernel (`paranoidLevel`).
 */
import { denoGuarded, ownerOf, readText } from './files'

/** Capability bits (linux/capability.h) that matter to perf. */
export const CAP = { IPC_LOCK: 14, SYS_PTRACE: 19, SYS_ADMIN: 21, PERFMON: 38 } as const

/** A field of a process's status file (`Seccomp`, `CapEff`, `Uid`…), or `undefined`. */
export function statusField(name: string, pid: number | 'self' = 'self'): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readText(`/proc/${pid}/status`) ?? '')
  return m?.[1]
}

/** This process's effective uid (-1 where the runtime has none). */
export function euid(): number {
  return denoGuarded('sys access to the uid', () => process.geteuid?.() ?? -1)
}

/** This process's real uid (-1 where the runtime has none). */
export function uid(): number {
  return denoGuarded('sys access to the uid', () => process.getuid?.() ?? -1)
}

/** Whether this process has capability `bit` in its effective set. */
export function hasCapability(bit: number): boolean {
  const eff = statusField('CapEff')
  return eff !== undefined && /^[0-9a-f]+$/i.test(eff) && ((BigInt(`0x${eff}`) >> BigInt(bit)) & 1n) === 1n
}

/** Root, CAP_PERFMON or CAP_SYS_ADMIN: kernel, CPU-wide, tracepoint and probe events open whatever perf_event_paranoid says. */
export function isPerfPrivileged(): boolean {
  return euid() === 0 || hasCapability(CAP.PERFMON) || hasCapability(CAP.SYS_ADMIN)
}

/** The effective uid of process `pid` (`Uid:` in its status), or `undefined` when it cannot be read. */
export function effectiveUid(pid: number): number | undefined {
  const m = /^\d+\s+(\d+)/.exec(statusField('Uid', pid) ?? '')
  return m ? Number(m[1]) : undefined
}

/** The owner uid of process `pid` (of its /proc directory), or `undefined` when it is gone. */
export function processOwner(pid: number): number | undefined {
  return ownerOf(`/proc/${pid}`)
}
