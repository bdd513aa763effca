/**
 * Counting without privilege, the way perf does: where the kernel refuses kernel-mode counting
 * (kernel.perf_event_paranoid 2 without CAP_PERFMON), an event whose privilege levels were left to
 * the defaults is opened again for user space only (`exclude: { kernel: true, hv: true }`), its label
 * gains `:u`, and the process is told once (a `process.emitWarning`). Events that fire only in kernel
 * mode (context switches, CPU migrations) are refused instead of reading a silent 0.
 */
import type { NativeOpts, NativeTarget } from '../../index'
import type { ResolvedEvent } from '../events/events'
import { kernelOnlyReason, userSpaceOnlyNotice } from '../errors/hints'
import { paranoidLevel } from '../system/kernel'

/** Software events that happen in kernel mode only: a user-space-only count of them is always 0. */
const KERNEL_ONLY = new Set(['ctxSwitch', 'cpuMigration', 'cgroupSwitch'])

/** Warning code of the one-time notice (`process.on('warning', w => w.code === …)`). */
export const USER_SPACE_ONLY_WARNING = 'PERF_EVENT_OPEN_USER_SPACE_ONLY'

/** Whether `ev` is a software event that fires in kernel mode only (context-switches, cpu-migrations, cgroup-switches). */
export function isKernelOnly(ev: ResolvedEvent): boolean {
  return ev.native.type === 'software' && KERNEL_ONLY.has(ev.native.name)
}

/**
 * Refuses an explicit user-space-only count of a kernel-only event (`context-switches:u`,
 * `exclude: { kernel: true }`): it would read 0 whatever happens.
 */
export function checkKernelOnly(ev: ResolvedEvent, opts: NativeOpts): void {
  if (isKernelOnly(ev) && opts.exclude?.kernel === true && opts.exclude.user !== true)
    throw new RangeError(`Expected an event that can fire in user space for ${JSON.stringify(ev.label)} but received a kernel-only event with the kernel excluded: ${kernelOnlyReason(ev.label)}`)
}

/**
 * Whether an open refused with EACCES/EPERM may be retried for user space only: the privilege levels
 * were left to the defaults (no `:u`/`:k`/`:h` modifier, no `exclude.user/kernel/hv` option), the
 * target is a thread or process (a CPU-wide count needs privilege whatever it excludes), and the event
 * is one whose kernel part the paranoid level controls (not a tracepoint or probe).
 */
export function mayCountUserOnly(ev: ResolvedEvent, options: unknown, target: NativeTarget): boolean {
  if (ev.exclude !== undefined) return false
  const ex = (options as { exclude?: Record<string, unknown> } | undefined)?.exclude
  if (ex !== undefined && (ex.user !== undefined || ex.kernel !== undefined || ex.hv !== undefined)) return false
  if (target.pid < 0 || target.cgroup !== undefined) return false
  const type = ev.native.type
  return type !== 'tracepoint' && type !== 'kprobe' && type !== 'uprobe'
}

function isPermissionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code
  return code === 'EACCES' || code === 'EPERM'
}

let told = false

/** Tells the process once that events count user space only (later calls do nothing). */
export function tellUserSpaceOnly(label: string): void {
  if (told) return
  told = true
  let level: number | undefined
  try {
    level = paranoidLevel()
  } catch {
    // Deno without -A refuses the read: the notice says 'unknown' rather than failing the open that worked.
  }
  const message = userSpaceOnlyNotice(level, label)
  if (typeof process.emitWarning === 'function') process.emitWarning(message, { code: USER_SPACE_ONLY_WARNING })
}

/** The label of a user-space-only count: `task-clock` → `task-clock:u`. */
export function userLabel(label: string): string {
  return `${label}:u`
}

/**
 * Opens with `open(opts)`; where the kernel refuses with EACCES/EPERM and `mayCountUserOnly`, opens
 * again with the kernel and hypervisor excluded. A kernel-only event is not retried: the original
 * error is thrown with `kernelOnly` set in its context (its hint then says why). A retry that fails
 * too throws the original error (its hint names the cause: paranoid 3, another user's process…).
 * @param fail turns a native error into the thrown one (`fromNative` with the event's context).
 */
export function openCountingUserOnly<T>(
  ev: ResolvedEvent,
  opts: NativeOpts,
  options: unknown,
  target: NativeTarget,
  open: (opts: NativeOpts) => T,
  fail: (e: unknown, kernelOnly: boolean) => Error,
): { value: T; opts: NativeOpts; label: string; userOnly: boolean } {
  checkKernelOnly(ev, opts)
  try {
    return { value: open(opts), opts, label: ev.label, userOnly: false }
  } catch (e) {
    if (!isPermissionError(e) || !mayCountUserOnly(ev, options, target)) throw fail(e, false)
    if (isKernelOnly(ev)) throw fail(e, true)
    const user: NativeOpts = { ...opts, exclude: { ...opts.exclude, kernel: true, hv: true } }
    let value: T
    try {
      value = open(user)
    } catch {
      throw fail(e, false)
    }
    const label = userLabel(ev.label)
    tellUserSpaceOnly(label)
    return { value, opts: user, label, userOnly: true }
  }
}
