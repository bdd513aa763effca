/**
 * Per-thread off-CPU intervals from the kernel's context-switch records: a switch-out (with the
 * PREEMPT flag: still runnable) followed by the switch-in of the same thread is one interval, and
 * the stack sampled at that switch-out (the `context-switches` event, where allowed) is its stack.
 * Pure data in, data out: no perf calls here.
 */

/** Why a thread was off CPU: waiting for a CPU while runnable, blocked (sleep, I/O, lock), or its event loop waiting for work. */
export type OffCpuState = 'runQueue' | 'blocked' | 'idle'

/**
 * The stack of a thread at a switch-out, as the kernel sampled it: the frame-pointer call chain
 * (user and kernel parts, leaf first) and, with `userStack`, a copy of the user stack and the
 * registers a DWARF (CFI) unwinder starts from.
 */
export interface SwitchStack {
  user?: bigint[]
  kernel?: bigint[]
  /** Bytes of the user stack from the stack pointer up (PERF_SAMPLE_STACK_USER). */
  userStack?: Buffer
  /** User registers in the order of the mask bits (PERF_SAMPLE_REGS_USER): x86-64 bp, sp, ip; arm64 x29, lr, sp, pc. */
  userRegs?: bigint[]
}

/** What the rings gave for one thread, in any order: stacks at switch-out, switch-out and switch-in records. Times are CLOCK_MONOTONIC ns. */
export type SwitchEvent =
  | { readonly kind: 'stack'; readonly time: bigint; readonly stack: SwitchStack }
  | { readonly kind: 'out'; readonly time: bigint; readonly preempt: boolean }
  | { readonly kind: 'in'; readonly time: bigint }

/** One stretch of time a thread spent off CPU. */
export interface RawInterval {
  readonly tid: number
  /** Switch-out and switch-in, CLOCK_MONOTONIC ns. */
  readonly start: bigint
  readonly end: bigint
  /** Switched out while runnable (MISC_SWITCH_OUT_PREEMPT): run-queue delay, not blocking. */
  readonly preempt: boolean
  readonly stack?: SwitchStack
  /**
   * `'start'`: the thread was already off CPU when profiling started (its switch-out was not seen);
   * `'end'`: it was still off CPU when profiling stopped. The interval is cut to the profiled window.
   */
  readonly cut?: 'start' | 'end'
}

const RANK = { stack: 0, out: 1, in: 2 } as const

/**
 * The off-CPU intervals of one thread between `start` and `end` (CLOCK_MONOTONIC ns), and how many
 * switch-outs had no matching switch-in (records lost in between): those are left out, not guessed.
 */
export function threadIntervals(tid: number, events: SwitchEvent[], start: bigint, end: bigint): { intervals: RawInterval[]; unmatched: number } {
  // A thread's records can come from several rings (one per CPU with scope 'process'): order by time;
  // at equal times the stack comes before its switch-out (the kernel writes it first), a switch-out before a switch-in.
  const evs = [...events].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : RANK[a.kind] - RANK[b.kind]))
  const intervals: RawInterval[] = []
  let unmatched = 0
  let out: { time: bigint; preempt: boolean; stack?: SwitchStack } | undefined
  let stack: SwitchStack | undefined
  let switched = false
  for (const e of evs) {
    if (e.kind === 'stack') stack = e.stack
    else if (e.kind === 'out') {
      if (out) unmatched++
      out = { time: e.time, preempt: e.preempt, stack }
      stack = undefined
      switched = true
    } else {
      if (out) intervals.push({ tid, start: out.time, end: e.time, preempt: out.preempt, stack: out.stack })
      // Off CPU since before the start: the part inside the window, without a stack (its switch-out was not seen).
      else if (!switched && e.time > start) intervals.push({ tid, start, end: e.time, preempt: false, cut: 'start' })
      out = undefined
      stack = undefined
      switched = true
    }
  }
  if (out && end > out.time) intervals.push({ tid, start: out.time, end, preempt: out.preempt, stack: out.stack, cut: 'end' })
  return { intervals, unmatched }
}
