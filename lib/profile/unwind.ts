import { PerfEventError, rangeError, typeError } from '../errors/errors'
import { symbolizer } from './symbolizer'

/** One unwound user stack. */
export interface UnwoundStack {
  /** The sampled instruction pointer, then return addresses, innermost first (as in a kernel call chain). */
  frames: BigUint64Array
  /** Why the chain ended: the outermost frame was reached, the copied stack bytes ran out (or no rule applied), or `maxFrames`. */
  end: 'root' | 'truncated' | 'maxFrames'
}

/** The symbolizer addon's `Unwinder` instance (symbolize/src/unwind.rs). */
export interface NativeUnwinder {
  refresh(): number
  get modulesLoaded(): number
  get failures(): Array<string>
  unwind(regsMask: bigint, regs: BigUint64Array, stack: Buffer): { frames: Array<bigint>; end: UnwoundStack['end'] }
}

/**
 * The unwinder part of the symbolizer addon. Written out here like `SymbolizerBinding`, so the
 * published typings need nothing from symbolize/; `__test__/types/symbolizer.ts` checks both against
 * the generated symbolize/index.d.ts.
 */
export interface UnwinderBinding {
  Unwinder: { new (pid: number, maxFrames?: number | undefined | null): NativeUnwinder; prototype: NativeUnwinder }
}

/**
 * The `sampleFormat.userRegs` mask of the registers the unwinder needs on this CPU (bits of the
 * kernel's perf_regs.h): x86-64 BP, SP, IP (6, 7, 8); arm64 X29, LR, SP, PC (29–32).
 */
export const UNWIND_REGS_MASK: bigint = process.arch === 'arm64' ? 0x1e0000000n : 0x1c0n

/** What `unwind` reads from a sample record. */
export interface UnwindableSample {
  userRegs?: { abi: number; values: bigint[] }
  userStack?: Buffer
}

function binding(): UnwinderBinding['Unwinder'] {
  const native = (symbolizer() as unknown as Partial<UnwinderBinding>).Unwinder
  if (typeof native !== 'function')
    throw new PerfEventError('The loaded symbolizer addon has no stack unwinder (it is older than this package)', 'ERR_SYMBOLIZER_MISSING', {
      syscall: 'load',
      hint: 'Install the perf-event-open-symbolize version that matches perf-event-open (in a clone: npm run build:symbolize).',
    })
  return native
}

/**
 * Unwinds the copied user stacks of one running process's samples (`sampleFormat.userStack` bytes
 * and `sampleFormat.userRegs` registers): DWARF CFI through native code (glibc, node itself), frame
 * pointers through V8's JIT code. It reaches the JS function where a frame-pointer call chain ends
 * in glibc (a futex wait, `read`, `open`). The process's modules are read from `/proc/<pid>/maps`
 * when created (`refresh()` again after a `dlopen`); their unwind sections load on first use.
 */
export class StackUnwinder {
  readonly pid: number
  #native: NativeUnwinder

  /**
   * @param pid a running process (its `/proc/<pid>/maps` must be readable: the same user or root).
   * @param options `maxFrames`: frames per chain at most (default 512).
   * @throws PerfEventError `ESRCH` (no such process), `EACCES`; RangeError for a bad pid or maxFrames.
   */
  constructor(pid: number, options: { maxFrames?: number } = {}) {
    if (!Number.isSafeInteger(pid) || pid < 1 || pid > 0x7fffffff) throw rangeError('a process id (a positive integer)', 'pid', pid)
    const max = options.maxFrames
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 1 || max > 65536)) throw rangeError('an integer 1..65536', 'options.maxFrames', max)
    const Native = binding()
    try {
      this.#native = new Native(pid, max)
    } catch (e) {
      const errno = Number(/\(errno (\d+)\)/.exec((e as Error).message)?.[1] ?? 0)
      if (errno === 2 || errno === 3)
        throw new PerfEventError(`No process ${pid} to unwind stacks of`, 'ESRCH', { errno: 3, syscall: 'open', hint: 'The process has exited: unwind its samples while it runs.', cause: e })
      if (errno === 1 || errno === 13)
        throw new PerfEventError(`Cannot read /proc/${pid}/maps`, 'EACCES', {
          errno: 13,
          syscall: 'open',
          hint: 'Unwind the stacks of your own processes, or run as root (or with CAP_SYS_PTRACE).',
          cause: e,
        })
      throw new PerfEventError((e as Error).message, 'ERR_PERF', { errno, syscall: 'open', cause: e })
    }
    this.pid = pid
  }

  /**
   * Unwinds one sample record. `regsMask` is the `sampleFormat.userRegs` mask the sampler was opened
   * with (default `UNWIND_REGS_MASK`); it must include the registers of `UNWIND_REGS_MASK`.
   * @throws TypeError when the sample has no `userRegs` or `userStack`; RangeError for a 32-bit thread.
   */
  unwind(sample: UnwindableSample, regsMask: bigint = UNWIND_REGS_MASK): UnwoundStack {
    if (typeof regsMask !== 'bigint') throw typeError('a bigint mask', 'regsMask', regsMask)
    if ((regsMask & UNWIND_REGS_MASK) !== UNWIND_REGS_MASK || regsMask >> 64n !== 0n)
      throw rangeError(`a 64-bit mask including 0x${UNWIND_REGS_MASK.toString(16)}n (UNWIND_REGS_MASK)`, 'regsMask', regsMask)
    const regs = sample?.userRegs
    if (!regs || !Array.isArray(regs.values))
      throw typeError('a sample with userRegs (open the sampler with sampleFormat.userRegs: UNWIND_REGS_MASK)', 'sample', sample)
    if (!Buffer.isBuffer(sample.userStack)) throw typeError('a sample with userStack bytes (open the sampler with sampleFormat.userStack, e.g. 16384)', 'sample', sample)
    // abi 0: the sample hit a kernel thread, which has no user stack.
    if (regs.abi === 0) return { frames: new BigUint64Array(0), end: 'root' }
    if (regs.abi !== 64) throw rangeError('a sample of a 64-bit thread', 'sample.userRegs.abi', regs.abi)
    return this.unwindRaw(regsMask, BigUint64Array.from(regs.values), sample.userStack)
  }

  /** Unwinds from raw values: `regs` one per set bit of `regsMask`, lowest bit first; `stack` the bytes copied from the stack pointer up. */
  unwindRaw(regsMask: bigint, regs: BigUint64Array, stack: Buffer): UnwoundStack {
    try {
      const { frames, end } = this.#native.unwind(regsMask, regs, stack)
      return { frames: BigUint64Array.from(frames), end }
    } catch (e) {
      // The addon checks the mask against the values: its message names both.
      throw new RangeError((e as Error).message)
    }
  }

  /** Reads the process's mappings again (after a `dlopen`): returns how many executable ones it has. */
  refresh(): number {
    try {
      return this.#native.refresh()
    } catch (e) {
      throw new PerfEventError(`Cannot read /proc/${this.pid}/maps`, 'ESRCH', { errno: 3, syscall: 'open', hint: 'The process has exited.', cause: e })
    }
  }

  /** Modules whose unwind data was loaded so far. */
  get modulesLoaded(): number {
    return this.#native.modulesLoaded
  }

  /** Mapped files whose unwind data could not be read (`path: why`): their code unwinds by frame pointers only. */
  get failures(): string[] {
    return this.#native.failures
  }
}
