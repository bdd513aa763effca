import { rangeError, typeError } from '../events/check'
import { escapeControls } from './sanitize'
import { formatExtensions, formatFor } from './formats'
import { toPprof } from './formats/pprof'
import { toFolded, type FoldedOptions } from './formats/folded'
import { toCpuProfile, type CpuProfile } from './formats/cpuprofile'
import { toSvg } from './formats/svg'
import { toFirefox } from './formats/firefox'
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
  /** V8 tier marks this JS function ran in (`'~*'`…), empty for other code. */
  readonly tiers: string
  /** Weight of samples whose leaf is this function (in `profile.unit`). */
  readonly self: number
  /** Weight of samples with this function anywhere on the stack. */
  readonly total: number
  /** `self` as a percentage of all weight. */
  readonly selfPercent: number
  readonly totalPercent: number
}

/** The hottest functions: `rows` as data, `table` as printable text. */
export interface TopResult {
  readonly rows: TopRow[]
  /** All weight of the profile, in `unit`. */
  readonly totalWeight: number
  readonly unit: string
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

function fmtWeight(v: number, unit: string): string {
  if (unit === 'ns') {
    if (v >= 1e9) return `${(v / 1e9).toFixed(2)} s`
    if (v >= 1e6) return `${(v / 1e6).toFixed(1)} ms`
    if (v >= 1e3) return `${(v / 1e3).toFixed(1)} µs`
    return `${v} ns`
  }
  return `${v} ${unit}`
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
   * The `n` hottest functions by self weight (ties by total), with a printed table.
   * Total counts a function once per sample even when it recurses.
   * `options.tid`: only the samples of the thread with that tid; `options.thread`: of `threads[thread]` (an index).
   * The printed table has control characters of names escaped (`\x1b`); `rows` keep them exact.
   */
  top(n = 20, options: { by?: 'self' | 'total'; thread?: number; tid?: number } = {}): TopResult {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw typeError('a positive integer', 'n', n)
    if (n < 1) throw rangeError('a positive integer', 'n', n)
    if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
    if (options.by !== undefined && options.by !== 'self' && options.by !== 'total') throw typeError("'self' or 'total'", 'options.by', options.by)
    const only = this.#threadFilter(options.thread, options.tid)
    const by = options.by ?? 'self'
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
    const self = new Float64Array(fnFrame.length)
    const total = new Float64Array(fnFrame.length)
    const seen = new Int32Array(fnFrame.length).fill(-1)
    let all = 0
    for (let i = 0; i < this.sampleCount; i++) {
      if (only !== undefined && this.samples.thread[i] !== only) continue
      const w = this.samples.weight[i]
      all += w
      const leaf = this.samples.stack[i]
      if (leaf < 0) continue
      self[fn[this.stacks.frame[leaf]]] += w
      for (let s = leaf; s >= 0; s = this.stacks.parent[s]) {
        const f = fn[this.stacks.frame[s]]
        if (seen[f] === i) continue
        seen[f] = i
        total[f] += w
      }
    }
    const ids = [...fnFrame.keys()].filter((f) => total[f] > 0)
    ids.sort((a, b) => (by === 'self' ? self[b] - self[a] || total[b] - total[a] : total[b] - total[a] || self[b] - self[a]))
    const pct = (v: number) => (all > 0 ? (100 * v) / all : 0)
    const rows: TopRow[] = ids.slice(0, n).map((f) => ({ frame: this.frames[fnFrame[f]], tiers: tiers[f], self: self[f], total: total[f], selfPercent: pct(self[f]), totalPercent: pct(total[f]) }))
    const unit = this.meta.unit
    const head = ['self', 'self%', 'total', 'total%', 'kind', 'function']
    const body = rows.map((r) => [fmtWeight(r.self, unit), `${r.selfPercent.toFixed(1)}%`, fmtWeight(r.total, unit), `${r.totalPercent.toFixed(1)}%`, r.frame.kind, escapeControls(r.frame.kind === 'js' ? r.tiers + r.frame.label.slice(r.frame.tier?.length ?? 0) : r.frame.label)])
    const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)))
    const line = (r: string[]) => r.map((v, c) => (c === r.length - 1 ? v : c >= 4 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')
    const title = `${escapeControls(this.meta.event)}: ${this.sampleCount} samples, ${fmtWeight(all, unit)}` + (this.lost.count ? `, ${this.lost.count} samples lost` : '')
    const table = [title, line(head), ...body.map(line)].join('\n')
    return { rows, totalWeight: all, unit, table }
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
  toSvg(options?: { title?: string; width?: number }): Promise<string> {
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
