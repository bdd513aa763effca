import { rangeError, typeError } from '../events/check'
import { escapeControls } from './sanitize'
import { formatExtensions, formatFor } from './formats'
import { toPprof } from './formats/pprof'
import { toFolded, type FoldedOptions } from './formats/folded'
import { toCpuProfile, type CpuProfile } from './formats/cpuprofile'
import { toSvg, type SvgOptions } from './formats/svg'
import { toFirefox } from './formats/firefox'
import { displayName, formatWeight, groupDigits, isJsLevel } from './labels'
import type { Frame, LostSamples, ProfileData, ProfileMeta, ProfileThread } from './types'

export type { Frame, FrameKind, LostSamples, ProfileMeta, ProfileThread } from './types'

/**
 * The profile model: threads × samples × stacks × frames, each stack and frame stored once
 * (a prefix tree of stacks over a table of interned frames, as samply and inferno do). Every
 * export (formats/: pprof, folded, SVG, .cpuprofile, Firefox) is a view of this one model.
 */

/** One row of `profile.top()`. */
export interface TopRow {
  /** The function (its first frame seen; a JS function compiled by several tiers has one frame per tier). */
  readonly frame: Frame
  /** What the table prints: `name file:line` for JS, C++ names without parameter lists (see `TopOptions.signatures`). */
  readonly name: string
  /** V8 tier marks this JS function ran in (`'~*'`…), empty for other code. */
  readonly tiers: string
  /**
   * Weight (in `profile.unit`) of the samples this function is charged with: by default (`attribute: 'js'`)
   * the samples whose nearest JS function it is, native and kernel time below it included; with
   * `attribute: 'frame'` the samples whose leaf frame it is.
   */
  readonly self: number
  /** Weight of samples with this function anywhere on the stack (once per sample when it recurses). */
  readonly total: number
  /** `self` as a percentage of all weight. */
  readonly selfPercent: number
  readonly totalPercent: number
}

/** Options of `profile.top()`. */
export interface TopOptions {
  /** Rank by `self` (default) or `total` weight. */
  by?: 'self' | 'total'
  /**
   * Who a sample is charged to. `'js'` (default when the profile has JS frames, as `node --cpu-prof`
   * does): the nearest JS function on its stack (or compiled regexp), native and kernel time below it
   * included; a sample without any JS frame (GC and libuv threads, startup) stays with its own leaf
   * frame. `'frame'`: the leaf frame itself (the native/kernel breakdown).
   */
  attribute?: 'js' | 'frame'
  /** Only the samples of `threads[thread]` (an index)… */
  thread?: number
  /** …or of the thread with this tid. */
  tid?: number
  /** Keep C++ parameter lists and return types in names (default false). */
  signatures?: boolean
  /**
   * `by: 'total'` leaves out functions on almost every sample (≥ 90 %) of each thread they run on, with under 1 % self,
   * (`_start`, `node::Start`, `Module._compile` of the main script…), which would rank first and say
   * nothing; true keeps them. Default false.
   */
  common?: boolean
}

/** The hottest functions: `rows` as data, `table` as printable text. */
export interface TopResult {
  readonly rows: TopRow[]
  /** All weight of the profile (or of the thread asked for), in `unit`. */
  readonly totalWeight: number
  readonly unit: string
  /** How samples were charged (see `TopOptions.attribute`). */
  readonly attribute: 'js' | 'frame'
  /** Functions left out of a `by: 'total'` ranking because they are on every sample (see `TopOptions.common`). */
  readonly common: readonly Frame[]
  /** A printed table (self/total, %), one line per row. */
  readonly table: string
}

/** Builds a Profile: interns frames and stacks as samples arrive. */
export class ProfileBuilder {
  readonly frames: Frame[] = []
  readonly stackParent: number[] = []
  readonly stackFrame: number[] = []
  readonly sampleStack: number[] = []
  readonly sampleThread: number[] = []
  /** ns since the first sample. */
  readonly sampleTime: number[] = []
  readonly sampleWeight: number[] = []
  readonly threads: ProfileThread[] = []
  readonly #frameIds = new Map<string, number>()
  readonly #stackIds = new Map<number, number>()
  readonly #threadIds = new Map<number, number>()

  frame(f: Frame): number {
    const key = `${f.kind}\0${f.label}\0${f.module ?? ''}`
    let id = this.#frameIds.get(key)
    if (id === undefined) {
      id = this.frames.length
      this.frames.push(f)
      this.#frameIds.set(key, id)
    }
    return id
  }

  /** The stack `parent` + `frame` (`parent` -1: a root frame). */
  stack(parent: number, frame: number): number {
    // A number key (parent < 2^31, frame < 2^21): hashing numbers is far cheaper than strings.
    const key = (parent + 1) * 2097152 + frame
    let id = this.#stackIds.get(key)
    if (id === undefined) {
      id = this.stackParent.length
      this.stackParent.push(parent)
      this.stackFrame.push(frame)
      this.#stackIds.set(key, id)
    }
    return id
  }

  /** Renames thread `index` (thread names found after the samples, e.g. from their stacks). */
  rename(index: number, name: string): void {
    const t = this.threads[index]
    this.threads[index] = { ...t, name }
  }

  thread(tid: number, pid: number, name: () => string): number {
    let id = this.#threadIds.get(tid)
    if (id === undefined) {
      id = this.threads.length
      this.threads.push({ tid, pid, name: name() })
      this.#threadIds.set(tid, id)
    }
    return id
  }

  sample(stack: number, thread: number, time: number, weight: number): void {
    this.sampleStack.push(stack)
    this.sampleThread.push(thread)
    this.sampleTime.push(time)
    this.sampleWeight.push(weight)
  }
}

/**
 * A symbolized profile: `samples` (stack, thread, time, weight) over interned `stacks` and `frames`.
 * Export it with `write(path)` (by extension) or `toPprof()`, `toFolded()`, `toSvg()`, `toCpuProfile()`.
 */
export class Profile implements ProfileData {
  readonly meta: ProfileMeta
  readonly frames: readonly Frame[]
  /** Stack tree: `stacks.parent[i]` (-1 for a root) and `stacks.frame[i]`. */
  readonly stacks: { readonly parent: Int32Array; readonly frame: Int32Array }
  /** Columns, one entry per sample: leaf stack id, thread index, time (ns since the first sample), weight (`meta.unit`). */
  readonly samples: { readonly stack: Int32Array; readonly thread: Int32Array; readonly time: Float64Array; readonly weight: Float64Array }
  readonly threads: readonly ProfileThread[]
  readonly lost: LostSamples
  /** Things that limit this profile (no perf map: JS frames unnamed; kernel frames off…), each with the fix. */
  readonly warnings: readonly string[]

  /** @internal built by `Profiler`. */
  constructor(b: ProfileBuilder, meta: ProfileMeta, lost: LostSamples, warnings: string[]) {
    this.meta = meta
    this.frames = b.frames
    this.stacks = { parent: Int32Array.from(b.stackParent), frame: Int32Array.from(b.stackFrame) }
    this.samples = {
      stack: Int32Array.from(b.sampleStack),
      thread: Int32Array.from(b.sampleThread),
      time: Float64Array.from(b.sampleTime),
      weight: Float64Array.from(b.sampleWeight),
    }
    this.threads = b.threads
    this.lost = lost
    this.warnings = warnings
  }

  /** Event name. */
  get event(): string {
    return this.meta.event
  }
  /** Unit of the weights. */
  get unit(): string {
    return this.meta.unit
  }
  /** Number of samples. */
  get sampleCount(): number {
    return this.samples.stack.length
  }
  /** Sum of all samples' weight, in `unit`. */
  get totalWeight(): number {
    let t = 0
    for (const w of this.samples.weight) t += w
    return t
  }

  /** Frame ids of a stack, root first. */
  stackFrames(stack: number): number[] {
    const out: number[] = []
    for (let s = stack; s >= 0; s = this.stacks.parent[s]) out.push(this.stacks.frame[s])
    return out.reverse()
  }

  /**
   * The `n` hottest functions by self weight (ties by total), with a printed table. JS-first by
   * default for a Node program: time is charged to the nearest JS function (see `TopOptions.attribute`;
   * `{ attribute: 'frame' }` gives the native/kernel breakdown), a JS function's tiers are one row
   * named `name file:line`, C++ names lose their parameter lists (`signatures: true` keeps them).
   * `by: 'total'` leaves out functions present in every sample of their threads (`common: true` keeps them).
   * `options.tid`: only the samples of the thread with that tid; `options.thread`: of `threads[thread]` (an index).
   * The printed table has control characters of names escaped (`\x1b`); `rows` keep them exact.
   */
  top(n = 20, options: TopOptions = {}): TopResult {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw typeError('a positive integer', 'n', n)
    if (n < 1) throw rangeError('a positive integer', 'n', n)
    if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
    if (options.by !== undefined && options.by !== 'self' && options.by !== 'total') throw typeError("'self' or 'total'", 'options.by', options.by)
    if (options.attribute !== undefined && options.attribute !== 'js' && options.attribute !== 'frame') throw typeError("'js' or 'frame'", 'options.attribute', options.attribute)
    for (const k of ['signatures', 'common'] as const) if (options[k] !== undefined && typeof options[k] !== 'boolean') throw typeError('a boolean', `options.${k}`, options[k])
    const only = this.#threadFilter(options.thread, options.tid)
    const by = options.by ?? 'self'
    const jsLevel = this.frames.map(isJsLevel)
    const attribute = options.attribute ?? (jsLevel.some((j) => j) ? 'js' : 'frame')
    // One row per function: the tiers of a JS function are merged.
    const fn = new Int32Array(this.frames.length)
    const fnIds = new Map<string, number>()
    const fnFrame: number[] = []
    const tiers: string[] = []
    this.frames.forEach((f, i) => {
      const key = f.kind === 'js' ? `js\0${f.name}\0${f.file}:${f.line}:${f.column}` : `${f.kind}\0${f.label}\0${f.module ?? ''}`
      let id = fnIds.get(key)
      if (id === undefined) {
        id = fnFrame.length
        fnIds.set(key, id)
        fnFrame.push(i)
        tiers.push('')
      }
      fn[i] = id
      if (f.tier && !tiers[id].includes(f.tier)) tiers[id] += f.tier
    })
    const nf = fnFrame.length
    const self = new Float64Array(nf)
    const total = new Float64Array(nf)
    const seen = new Int32Array(nf).fill(-1)
    // Per thread: its weight, and each function's weight on it (for `common`).
    const threadWeight = new Float64Array(this.threads.length)
    const onThread = new Map<number, number>()
    let all = 0
    for (let i = 0; i < this.sampleCount; i++) {
      const th = this.samples.thread[i]
      if (only !== undefined && th !== only) continue
      const w = this.samples.weight[i]
      all += w
      threadWeight[th] += w
      const leaf = this.samples.stack[i]
      if (leaf < 0) continue
      let charged = fn[this.stacks.frame[leaf]]
      if (attribute === 'js') {
        for (let s = leaf; s >= 0; s = this.stacks.parent[s])
          if (jsLevel[this.stacks.frame[s]]) {
            charged = fn[this.stacks.frame[s]]
            break
          }
      }
      self[charged] += w
      // In the JS view a function's total counts the samples it is on as a JS function, or as the leaf charged.
      for (let s = leaf; s >= 0; s = this.stacks.parent[s]) {
        const fr = this.stacks.frame[s]
        const f = fn[fr]
        if (seen[f] === i || (attribute === 'js' && !jsLevel[fr] && f !== charged)) continue
        seen[f] = i
        total[f] += w
        const key = f * this.threads.length + th
        onThread.set(key, (onThread.get(key) ?? 0) + w)
      }
    }
    // Functions on ≥ 90 % of the weight of every thread they appear on, with under 1 % self: callers of everything.
    const isCommon = new Uint8Array(nf)
    if (by === 'total' && !options.common) {
      isCommon.fill(1)
      for (const [key, w] of onThread) {
        const th = key % this.threads.length
        if (w < 0.9 * threadWeight[th]) isCommon[(key - th) / this.threads.length] = 0
      }
      for (let f = 0; f < nf; f++) if (total[f] === 0 || self[f] >= 0.01 * all) isCommon[f] = 0
    }
    const ids = [...fnFrame.keys()].filter((f) => total[f] > 0 && !isCommon[f])
    ids.sort((a, b) => (by === 'self' ? self[b] - self[a] || total[b] - total[a] : total[b] - total[a] || self[b] - self[a]))
    const pct = (v: number) => (all > 0 ? (100 * v) / all : 0)
    const signatures = options.signatures ?? false
    const rows: TopRow[] = ids.slice(0, n).map((f) => {
      const frame = this.frames[fnFrame[f]]
      return { frame, name: displayName(frame, signatures), tiers: tiers[f], self: self[f], total: total[f], selfPercent: pct(self[f]), totalPercent: pct(total[f]) }
    })
    const common = [...fnFrame.keys()].filter((f) => isCommon[f]).map((f) => this.frames[fnFrame[f]])
    const unit = this.meta.unit
    const fmt = (v: number) => formatWeight(v, unit)
    const head = ['self', 'self%', 'total', 'total%', 'kind', 'tiers', 'function']
    const body = rows.map((r) => [fmt(r.self), `${r.selfPercent.toFixed(1)}%`, fmt(r.total), `${r.totalPercent.toFixed(1)}%`, r.frame.kind, r.tiers, escapeControls(r.name)])
    const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)))
    const line = (r: string[]) =>
      r
        .map((v, c) => (c === r.length - 1 ? v : c >= 4 ? v.padEnd(widths[c]) : v.padStart(widths[c])))
        .join('  ')
        .trimEnd()
    const samples = only === undefined ? this.sampleCount : this.samples.thread.filter((t) => t === only).length
    const how =
      attribute === 'js' ? "self: time of the nearest JS function, native and kernel code it called included; { attribute: 'frame' } (record --by-frame) splits it" : 'self: time of the leaf frame'
    const title =
      `${escapeControls(this.meta.event)}: ${groupDigits(samples)} samples, ${formatWeight(all, unit, this.meta.event)}` +
      (this.lost.count ? `, ${groupDigits(this.lost.count)} samples lost` : '') +
      `\n${how}` +
      (common.length ? `\n${common.length} function${common.length === 1 ? '' : 's'} on every sample left out (${common.slice(0, 3).map((f) => escapeControls(displayName(f))).join(', ')}${common.length > 3 ? ', …' : ''}; { common: true } keeps them)` : '')
    const table = [title, line(head), ...body.map(line)].join('\n')
    return { rows, totalWeight: all, unit, attribute, common, table }
  }

  /** The thread index `top()` keeps: from `thread` (an index) or `tid` (a thread id), checked. */
  #threadFilter(thread: unknown, tid: unknown): number | undefined {
    if (thread !== undefined && tid !== undefined) throw new TypeError('Expected one of options.thread (an index) or options.tid (a thread id) but received both')
    const last = this.threads.length - 1
    if (thread !== undefined) {
      const want = last >= 0 ? `a thread index (an integer from 0 to ${last}; options.tid takes a thread id)` : 'no thread index (the profile has no threads)'
      if (typeof thread !== 'number' || !Number.isInteger(thread)) throw typeError(want, 'options.thread', thread)
      if (thread < 0 || thread > last) throw rangeError(want, 'options.thread', thread)
      return thread
    }
    if (tid !== undefined) {
      if (typeof tid !== 'number' || !Number.isInteger(tid) || tid < 0) throw typeError('a thread id (a non-negative integer)', 'options.tid', tid)
      const i = this.threads.findIndex((t) => t.tid === tid)
      if (i < 0) {
        const some = this.threads.slice(0, 8).map((t) => t.tid).join(', ')
        throw rangeError(`the tid of a thread of this profile (${some || 'it has none'}${this.threads.length > 8 ? ', …' : ''})`, 'options.tid', tid)
      }
      return i
    }
    return undefined
  }

  /** pprof (`profile.proto`, gzipped): `go tool pprof`, Pyroscope, Parca, Grafana. */
  toPprof(): Buffer {
    return toPprof(this)
  }

  /** Folded stacks (`root;…;leaf weight`), for flamegraph.pl, inferno and speedscope. */
  toFolded(options?: FoldedOptions): string {
    return toFolded(this, options)
  }

  /** Chrome/V8 `.cpuprofile` (what `node --cpu-prof` writes) as an object; `JSON.stringify` it. */
  toCpuProfile(): CpuProfile {
    return toCpuProfile(this)
  }

  /** A self-contained flame graph SVG (drawn off the JS thread). */
  toSvg(options?: SvgOptions): Promise<string> {
    return toSvg(this, options)
  }

  /** Firefox Profiler processed format (JSON text; open it at profiler.firefox.com), threads as threads. */
  toFirefox(): Promise<string> {
    return toFirefox(this)
  }

  /**
   * Writes the profile in the format its extension names (the registry in formats/index.ts):
   * `.pb.gz`/`.pprof` (pprof), `.folded`, `.svg` (flame graph), `.cpuprofile` (Chrome/V8),
   * `.json`/`.json.gz` (Firefox Profiler).
   */
  async write(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') throw typeError('a file path', 'path', path)
    const found = formatFor(path)
    if (!found) {
      const exts = formatExtensions()
      throw rangeError(`a path ending in ${exts.slice(0, -1).join(', ')} or ${exts[exts.length - 1]}`, 'path', path)
    }
    await found.format.write(this, { path, extension: found.extension })
  }
}
