/**
 * The stacks of off-CPU intervals: their user frames (unwound from the copied user stack where it can
 * be, lib/profile/unwind.ts), and the state on top of each (`[blocked]`, `[run queue]`, `[idle]`).
 * @packageDocumentation
 */
import type { Frame } from '../model'
import type { ProfileBuilder } from '../model'
import { StackUnwinder } from '../unwind'
import type { OffCpuState, SwitchStack } from './intervals'

/** The frame on top of each off-CPU stack: why the thread was off CPU. */
export const STATE_FRAMES: Record<OffCpuState, Frame> = {
  runQueue: { label: '[run queue]', name: '[run queue]', kind: 'kernel', module: '[scheduler]' },
  blocked: { label: '[blocked]', name: '[blocked]', kind: 'kernel', module: '[scheduler]' },
  idle: { label: '[idle]', name: '[idle]', kind: 'kernel', module: '[scheduler]' },
}

/** Frames of the event loop's own wait for work: libuv's poll and the epoll system call (user or kernel side). */
const IDLE_FRAME = /^(?:uv__io_poll|epoll_wait|epoll_pwait2?|do_epoll_wait|ep_poll|__(?:x64|arm64|se)_sys_epoll_\w+)$/

/** Frames of V8 or node running code (embedded builtins, the engine, node's bindings): a wait above them is not the loop's own. */
const RUNS_JS = /^(?:Builtins?_|v8::|node::)/

/**
 * The state of an off-CPU interval: run queue when it was preempted (runnable), else blocked, or idle
 * when it waits in the event loop's own poll: an idle frame below any JS (with a full unwind, JS run
 * from an I/O callback has uv__io_poll far above it: that wait is the JS's own).
 */
export function stateOf(b: ProfileBuilder, stack: number, preempt: boolean, hasStack: boolean): OffCpuState {
  if (preempt) return 'runQueue'
  if (hasStack)
    for (let st = stack; st >= 0; st = b.stackParent[st]) {
      const f = b.frames[b.stackFrame[st]]
      if (f.kind === 'js' || f.kind === 'builtin' || RUNS_JS.test(f.name)) break
      if (IDLE_FRAME.test(f.name)) return 'idle'
    }
  return 'blocked'
}

/**
 * The user frames of stacks at switch-out. With a copied user stack (`options.userStack`) of a
 * process that still runs, the symbolize addon's unwinder (lib/profile/unwind.ts: DWARF CFI through
 * glibc and node, frame pointers through JIT code) reaches the JS function where the kernel's
 * frame-pointer chain ends in libc's syscall wrappers; otherwise, and when it gets no further, the
 * kernel's chain.
 */
export class UserFrames {
  readonly #unwinders = new Map<number, StackUnwinder | undefined>()
  /** Stacks unwound past the kernel's chain, and stacks that fell back to it. */
  unwound = 0
  fellBack = 0

  of(pid: number, s: SwitchStack): bigint[] | undefined {
    if (!s.userStack?.length || !s.userRegs?.length) return s.user
    let u = this.#unwinders.get(pid)
    if (!this.#unwinders.has(pid)) {
      try {
        u = new StackUnwinder(pid)
      } catch {
        u = undefined // exited, or not ours to read: the kernel's chains
      }
      this.#unwinders.set(pid, u)
    }
    try {
      const frames = u?.unwind({ userRegs: { abi: 64, values: s.userRegs }, userStack: s.userStack }).frames
      if (frames && frames.length > (s.user?.length ?? 0)) {
        this.unwound++
        return Array.from(frames)
      }
    } catch {
      // a stack it cannot read: the kernel's chain
    }
    this.fellBack++
    return s.user
  }
}
