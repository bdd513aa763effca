/**
 * The types of the profile model that its exports read (frames, threads, meta): `model.ts` builds
 * the `Profile` class on them and the formats (formats/) write a `ProfileData`, so neither imports the other's
 * module both ways.
 */

/** What kind of code a frame is. `js`: a JavaScript function named by V8's perf map. */
export type FrameKind = 'js' | 'builtin' | 'native' | 'kernel' | 'unknown'

/** One function (interned: the same function at different addresses is one frame). */
export interface Frame {
  /** Display name: JS frames as V8 writes them in its perf map (`*hot /app/x.js:3:14`), native frames demangled. */
  readonly label: string
  /** The function's name alone (`hot`), without tier mark or location. */
  readonly name: string
  readonly kind: FrameKind
  /** V8's tier mark of a JS frame: `~` interpreted/baseline, `^` Sparkplug/Maglev, `*` TurboFan, `''` none. */
  readonly tier?: string
  /** ELF file, `[vdso]`, `[kernel]`, or V8's perf map file for JIT code. */
  readonly module?: string
  /** Source file (JS script, or C/C++/Rust file from DWARF). */
  readonly file?: string
  /** 1-based line. */
  readonly line?: number
  /** 1-based column. */
  readonly column?: number
}

/** A thread that has samples. */
export interface ProfileThread {
  readonly tid: number
  readonly pid: number
  /**
   * The thread's name (`comm` records or `/proc/<pid>/task/<tid>/comm`) and, where the stacks tell,
   * its role: `node (main)`, `node (libuv pool)`, `node (Worker)`, `node (V8 platform)`.
   */
  readonly name: string
}

/** Samples the kernel could not write into the ring (too small or drained too late). */
export interface LostSamples {
  /** Lost samples as the kernel counted them (PERF_FORMAT_LOST when available, else the sum of LOST records). */
  readonly count: number
  /** Where `count` comes from. */
  readonly source: 'PERF_FORMAT_LOST' | 'PERF_RECORD_LOST'
  /** The sum of the PERF_RECORD_LOST records read from the ring (the kernel writes one only once the ring has room again, so it can lag `count`). */
  readonly records: number
}

/** What a profile was measured with. */
export interface ProfileMeta {
  /** The event as given (`cpu-clock`, `page-faults`, `syscalls:sys_enter_write`…). */
  readonly event: string
  /** Unit of a sample's weight: `ns` for clocks, `events` otherwise. */
  readonly unit: string
  /** Sampling frequency (Hz) or period (events per sample): one of them. */
  readonly freq?: number
  readonly period?: number
  /** Whether kernel frames were collected. */
  readonly kernel: boolean
  /** `'thread'` (the calling JS thread), `'process'` (every thread) or `'command'` (a child started by `profileCommand`). */
  readonly scope: 'thread' | 'process' | 'command'
  /** `profileCommand`: the command's exit code (or signal). */
  readonly exitCode?: number | null
  readonly signal?: string | null
  /** perf events (fds) the profile used: 1 for a thread, threads at start × CPUs for a process. */
  readonly fds: number
  /** Process id of the profiled process. */
  readonly pid: number
  /** Start and end, ms since the Unix epoch (continuous profiling: of the window). */
  readonly startTime: number
  readonly endTime: number
  /** The profiler's `labels` option (service, pid...), written as pprof sample labels. */
  readonly labels?: Readonly<Record<string, string | number>>
  /**
   * When the first sample was taken (the zero of `samples.time`), ms since the Unix epoch: the
   * events' CLOCK_MONOTONIC time against the start's. Absent where not known: at `startTime`.
   */
  readonly firstSampleTime?: number
}

/** What the exports (pprof, folded, SVG, .cpuprofile, Firefox) read of a profile; `Profile` is one. */
export interface ProfileData {
  readonly meta: ProfileMeta
  readonly frames: readonly Frame[]
  /** Stack tree: `stacks.parent[i]` (-1 for a root) and `stacks.frame[i]`. */
  readonly stacks: { readonly parent: Int32Array; readonly frame: Int32Array }
  /** Columns, one entry per sample: leaf stack id, thread index, time (ns since the first sample), weight (`meta.unit`). */
  readonly samples: { readonly stack: Int32Array; readonly thread: Int32Array; readonly time: Float64Array; readonly weight: Float64Array }
  readonly threads: readonly ProfileThread[]
  readonly lost: LostSamples
  readonly warnings: readonly string[]
  readonly sampleCount: number
  readonly totalWeight: number
  /** Frame ids of a stack, root first. */
  stackFrames(stack: number): number[]
}
