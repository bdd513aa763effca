import { rangeError, typeError } from '../../errors/errors'
import { optionalInt } from '../../events/check'

/** Options of `profileWall()` and `new OffCpuProfiler()`. */
export interface OffCpuOptions {
  /**
   * `'off-cpu'` (default for `OffCpuProfiler`): only the time threads spend off CPU, each interval
   * weighted by its length in ns. `'wall'` (default for `profileWall`): on-CPU samples (cpu-clock)
   * plus the off-CPU intervals, so that a thread's weight is its wall time.
   */
  mode?: 'wall' | 'off-cpu'
  /**
   * `'thread'`: the calling JS thread (default), or the thread `tid`. `'process'`: every thread of
   * this process (or of `pid`), threads started later included.
   */
  scope?: 'thread' | 'process'
  /** With `scope: 'thread'`: another thread (any process's, with the permission to trace it). */
  tid?: number
  /** With `scope: 'process'`: another running process. */
  pid?: number
  /**
   * The event loop's own wait for work (epoll_wait under libuv's uv_run) is labelled `[idle]`;
   * `false` leaves it out of the profile (it still counts in `offCpu.threads[].idleNs`). Default true.
   */
  idle?: boolean
  /**
   * Kernel frames in stacks at switch-out (why the thread waited: futex_wait, pipe_read, fifo_open,
   * do_epoll_wait…). Default: on where stacks are allowed (root, CAP_PERFMON, perf_event_paranoid <= 1).
   */
  kernel?: boolean
  /** On-CPU samples per second in `'wall'` mode (cpu-clock, default 999). */
  freq?: number
  /**
   * Bytes of the user stack copied with each switch-out (PERF_SAMPLE_STACK_USER, with the registers
   * an unwinder starts from), for DWARF unwinding through native code (it names the JS function above
   * a libc wait, where frame-pointer chains end); a multiple of 8, at most 65528. Default 16384 where
   * stacks are allowed; a command (`profileCommand`, `record -- cmd`) is never unwound (its modules are
   * gone once it exits): frame-pointer chains. 0: frame-pointer chains only.
   */
  userStack?: number
  /** Ring size of each ring as an exponent: 2^ringExp data pages (default 7; reduced where the memlock limit refuses it). */
  ringExp?: number
  /** Frames a stack keeps at most (default 127). */
  maxStackFrames?: number
}

/** The options, checked, with their defaults. */
export interface CheckedOptions {
  mode: 'wall' | 'off-cpu'
  scope: 'thread' | 'process'
  tid: number | undefined
  pid: number
  idle: boolean
  kernel: boolean | undefined
  freq: number
  userStack: number
  ringExp: number | undefined
  maxStackFrames: number
}

function bool(v: unknown, name: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw typeError('a boolean', name, v)
  return v
}

function oneOf<T extends string>(v: unknown, name: string, values: readonly T[]): T | undefined {
  if (v !== undefined && !values.includes(v as T)) throw typeError(values.map((x) => `'${x}'`).join(' or '), name, v)
  return v as T | undefined
}

const KNOWN = new Set(['mode', 'scope', 'tid', 'pid', 'idle', 'kernel', 'freq', 'userStack', 'ringExp', 'maxStackFrames'])

export function checkOptions(options: unknown, defaultMode: 'wall' | 'off-cpu'): CheckedOptions {
  if (options === undefined) options = {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw typeError('an options object', 'options', options)
  const o = options as Record<string, unknown>
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw typeError(`one of the options ${[...KNOWN].join(', ')}`, 'options key', k)
  const scope = oneOf(o.scope, 'options.scope', ['thread', 'process'] as const) ?? 'thread'
  const tid = optionalInt(o.tid, 'options.tid (a thread id)', 1, 2 ** 22)
  const pid = optionalInt(o.pid, 'options.pid (a process id)', 1, 2 ** 22)
  if (tid !== undefined && scope !== 'thread') throw new TypeError("Expected options.tid only with scope 'thread' (options.pid names a process for scope 'process')")
  if (pid !== undefined && scope !== 'process') throw new TypeError("Expected options.pid only with scope 'process' (options.tid names a thread for scope 'thread')")
  const userStack = optionalInt(o.userStack, 'options.userStack (bytes)', 0, 65528) ?? 16384
  if (userStack % 8 !== 0) throw rangeError('a multiple of 8 bytes', 'options.userStack', userStack)
  return {
    mode: oneOf(o.mode, 'options.mode', ['wall', 'off-cpu'] as const) ?? defaultMode,
    scope,
    tid,
    pid: pid ?? process.pid,
    idle: bool(o.idle, 'options.idle') ?? true,
    kernel: bool(o.kernel, 'options.kernel'),
    freq: optionalInt(o.freq, 'options.freq (samples per second)', 1, 1_000_000) ?? 999,
    userStack,
    ringExp: optionalInt(o.ringExp, 'options.ringExp (an exponent: 2^ringExp pages)', 0, 16),
    maxStackFrames: optionalInt(o.maxStackFrames, 'options.maxStackFrames', 1, 0xffff) ?? 127,
  }
}
