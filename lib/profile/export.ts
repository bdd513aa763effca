/** Exports of a Profile: each a view of the one model. */
import { gzipSync } from 'node:zlib'
import type { Frame, ProfileData } from './types'
import { symbolizer } from './symbolizer'
import { escapeControls } from './sanitize'
import { rangeError, typeError } from '../events/check'

/** Options of the folded-stacks export. */
export interface FoldedOptions {
  /** Put the thread (`name-tid`) as the root frame: default when the profile has more than one thread. */
  threads?: boolean
  /** Suffix JS frames with `_[j]` and kernel frames with `_[k]` (flamegraph.pl / inferno `--colors js`). Default true. */
  annotate?: boolean
}

function foldedName(f: Frame, annotate: boolean): string {
  // A text format (one stack a line, read by terminals and SVG writers): control characters escaped.
  const l = escapeControls(f.label.replace(/;/g, ':').replace(/\s+$/, ''))
  if (!annotate) return l
  if (f.kind === 'js') return `${l}_[j]`
  if (f.kind === 'kernel') return `${l}_[k]`
  return l
}

/** Folded stacks: one `root;…;leaf weight` line per distinct stack (and thread), weights summed. */
export function toFolded(p: ProfileData, options: FoldedOptions = {}): string {
  const threads = options.threads ?? p.threads.length > 1
  const annotate = options.annotate ?? true
  const names = p.frames.map((f) => foldedName(f, annotate))
  const stackText = new Map<number, string>()
  const text = (s: number): string => {
    let t = stackText.get(s)
    if (t === undefined) {
      t = s < 0 ? '' : p.stackFrames(s).map((f) => names[f]).join(';')
      stackText.set(s, t)
    }
    return t
  }
  const sums = new Map<string, number>()
  for (let i = 0; i < p.sampleCount; i++) {
    let line = text(p.samples.stack[i]) || '[no stack]'
    if (threads) {
      const t = p.threads[p.samples.thread[i]]
      line = `${escapeControls(t.name.replace(/;/g, ':'))}-${t.tid};${line}`
    }
    sums.set(line, (sums.get(line) ?? 0) + p.samples.weight[i])
  }
  return [...sums].map(([k, v]) => `${k} ${Math.round(v)}`).join('\n') + (sums.size ? '\n' : '')
}

/** Pixel widths `toSvg` accepts. */
export const SVG_WIDTH = { min: 100, max: 100_000 }

/**
 * A self-contained, interactive flame graph SVG (inferno, in the symbolizer addon, off the JS thread).
 * Always well-formed XML: names and the title have their control characters escaped (`\x1b`).
 */
export async function toSvg(p: ProfileData, options: { title?: string; width?: number } = {}): Promise<string> {
  if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
  if (options.title !== undefined && typeof options.title !== 'string') throw typeError('a string', 'options.title', options.title)
  const { width } = options
  if (width !== undefined) {
    const want = `an integer from ${SVG_WIDTH.min} to ${SVG_WIDTH.max} (pixels)`
    if (typeof width !== 'number' || !Number.isInteger(width)) throw typeError(want, 'options.width', width)
    if (width < SVG_WIDTH.min || width > SVG_WIDTH.max) throw rangeError(want, 'options.width', width)
  }
  const folded = toFolded(p)
  const total = p.totalWeight
  const sub = `${p.sampleCount} samples of ${p.meta.event}${p.lost.count ? `, ${p.lost.count} lost` : ''}; green: JS, orange: kernel`
  return symbolizer().flameGraph(folded.length ? folded : '[no samples] 1\n', {
    title: escapeControls(options.title ?? `${p.meta.event} profile (${total} ${p.meta.unit})`),
    subtitle: escapeControls(sub),
    countName: p.meta.unit,
    width: options.width,
  })
}

// ---- pprof (profile.proto), gzipped ----

class ProtoWriter {
  #chunks: number[] = []
  varint(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      let n = v
      while (n >= 0x80) {
        this.#chunks.push((n % 0x80) | 0x80)
        n = Math.floor(n / 0x80)
      }
      this.#chunks.push(n)
      return
    }
    let x = BigInt(v)
    if (x < 0n) x = BigInt.asUintN(64, x)
    while (x >= 0x80n) {
      this.#chunks.push(Number((x & 0x7fn) | 0x80n))
      x >>= 7n
    }
    this.#chunks.push(Number(x))
  }
  /** A varint field (wire type 0); zero is left out as proto3 does. */
  uint(field: number, v: number | bigint): void {
    if (v === 0 || v === 0n) return
    this.varint(field << 3)
    this.varint(v)
  }
  bytes(field: number, b: Uint8Array): void {
    this.varint((field << 3) | 2)
    this.varint(b.length)
    for (const x of b) this.#chunks.push(x)
  }
  string(field: number, s: string): void {
    this.bytes(field, Buffer.from(s, 'utf8'))
  }
  message(field: number, build: (w: ProtoWriter) => void): void {
    const w = new ProtoWriter()
    build(w)
    this.bytes(field, w.finish())
  }
  packed(field: number, values: Iterable<number | bigint>): void {
    const w = new ProtoWriter()
    for (const v of values) w.varint(v)
    const b = w.finish()
    if (b.length) this.bytes(field, b)
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#chunks)
  }
}

/** pprof sample type of the event: cpu-clock → `cpu-clock`/`nanoseconds`, others → `<event>`/`count`. */
export function pprofUnit(p: ProfileData): string {
  return p.meta.unit === 'ns' ? 'nanoseconds' : 'count'
}

/**
 * pprof (`profile.proto`, gzipped): sample types `samples/count` and `<event>/<unit>`, a `thread` label
 * (name) and `thread_id` label per sample; one function and location per frame.
 */
export function toPprof(p: ProfileData): Buffer {
  const strings = ['']
  const ids = new Map<string, number>([['', 0]])
  const str = (s: string): number => {
    let i = ids.get(s)
    if (i === undefined) {
      i = strings.length
      strings.push(s)
      ids.set(s, i)
    }
    return i
  }
  const w = new ProtoWriter()
  const unit = pprofUnit(p)
  w.message(1, (m) => {
    m.uint(1, str('samples'))
    m.uint(2, str('count'))
  })
  w.message(1, (m) => {
    m.uint(1, str(p.meta.event))
    m.uint(2, str(unit))
  })
  // Samples: locations leaf first; samples of one stack on one thread merged (pprof sums values).
  const merged = new Map<number, { stack: number; thread: number; count: number; weight: number }>()
  for (let i = 0; i < p.sampleCount; i++) {
    const key = (p.samples.stack[i] + 1) * 65536 + p.samples.thread[i]
    const e = merged.get(key)
    if (e) {
      e.count++
      e.weight += p.samples.weight[i]
    } else merged.set(key, { stack: p.samples.stack[i], thread: p.samples.thread[i], count: 1, weight: p.samples.weight[i] })
  }
  for (const e of merged.values()) {
    const frames = e.stack < 0 ? [] : p.stackFrames(e.stack).reverse()
    const t = p.threads[e.thread]
    w.message(2, (m) => {
      m.packed(
        1,
        frames.map((f) => f + 1),
      )
      m.packed(2, [e.count, Math.round(e.weight)])
      m.message(3, (l) => {
        l.uint(1, str('thread'))
        l.uint(2, str(t.name))
      })
      m.message(3, (l) => {
        l.uint(1, str('thread_id'))
        l.uint(3, t.tid)
      })
    })
  }
  p.frames.forEach((f, i) => {
    w.message(4, (m) => {
      m.uint(1, i + 1)
      m.message(4, (l) => {
        l.uint(1, i + 1)
        l.uint(2, f.line ?? 0)
      })
    })
  })
  p.frames.forEach((f, i) => {
    w.message(5, (m) => {
      m.uint(1, i + 1)
      m.uint(2, str(f.kind === 'js' ? `${f.tier ?? ''}${f.name} [JS]` : f.label))
      m.uint(3, str(f.label))
      m.uint(4, str(f.file ?? f.module ?? ''))
      m.uint(5, f.line ?? 0)
    })
  })
  const comments = p.warnings.map((x) => str(x))
  const duration = Math.max(0, Math.round((p.meta.endTime - p.meta.startTime) * 1e6))
  // String table (field 6) after all strings are known.
  for (const s of strings) w.string(6, s)
  w.uint(9, BigInt(p.meta.startTime) * 1_000_000n)
  w.uint(10, duration)
  w.message(11, (m) => {
    m.uint(1, str(p.meta.event))
    m.uint(2, str(unit))
  })
  w.uint(12, p.meta.period ?? (p.meta.freq ? Math.round(1e9 / p.meta.freq) : 0))
  w.packed(13, comments)
  return gzipSync(w.finish())
}

// ---- Chrome / V8 .cpuprofile ----

/** What `node --cpu-prof` writes (DevTools, VS Code, speedscope). Times in µs; one node per distinct stack. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number }; hitCount: number; children?: number[] }[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Chrome `.cpuprofile`: the stack tree as nodes (ids from 1, root `(root)`), samples in time order. */
export function toCpuProfile(p: ProfileData): CpuProfile {
  const nodes: CpuProfile['nodes'] = [{ id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [] }]
  const nodeOfStack = new Map<number, number>([[-1, 1]])
  const node = (s: number): number => {
    let n = nodeOfStack.get(s)
    if (n !== undefined) return n
    const parent = node(p.stacks.parent[s])
    const f = p.frames[p.stacks.frame[s]]
    n = nodes.length + 1
    const functionName = f.kind === 'js' ? f.name : f.kind === 'kernel' ? `${f.label} [kernel]` : f.label
    const url = f.kind === 'js' ? (f.file ?? '') : (f.module ?? '')
    nodes.push({
      id: n,
      callFrame: { functionName, scriptId: '0', url, lineNumber: f.kind === 'js' && f.line ? f.line - 1 : -1, columnNumber: f.kind === 'js' && f.column ? f.column - 1 : -1 },
      hitCount: 0,
    })
    const parentNode = nodes[parent - 1]
    ;(parentNode.children ??= []).push(n)
    nodeOfStack.set(s, n)
    return n
  }
  const order = [...Array(p.sampleCount).keys()].sort((a, b) => p.samples.time[a] - p.samples.time[b])
  const samples: number[] = []
  const timeDeltas: number[] = []
  const start = p.meta.startTime * 1000
  let last = 0
  for (const i of order) {
    const n = node(p.samples.stack[i])
    nodes[n - 1].hitCount++
    samples.push(n)
    // Deltas of rounded absolute times: no drift over many samples.
    const t = Math.round(p.samples.time[i] / 1000)
    timeDeltas.push(t - last)
    last = t
  }
  return { nodes, startTime: Math.round(start), endTime: Math.round(start + Math.max(last, (p.meta.endTime - p.meta.startTime) * 1000)), samples, timeDeltas }
}

/**
 * Firefox Profiler processed format (JSON; open at https://profiler.firefox.com), written by the
 * `fxprof-processed-profile` crate in the symbolizer addon, off the JS thread. Threads are threads;
 * JS frames carry the JS flag and category. Clock events weigh one per sample, others their period.
 */
export async function toFirefox(p: ProfileData, product = `node ${process.argv.slice(1).join(' ')}`.trim()): Promise<string> {
  const interval = p.meta.freq ? 1000 / p.meta.freq : 1
  return symbolizer().firefoxProfile({
    product,
    pid: p.meta.pid,
    processName: p.threads[0]?.name ?? 'node',
    startTimeMs: p.meta.startTime,
    intervalMs: interval,
    timeBased: p.meta.unit === 'ns',
    frameLabel: p.frames.map((f) => (f.kind === 'kernel' ? `${f.label} [kernel]` : f.label)),
    frameKind: p.frames.map((f) => f.kind),
    stackParent: [...p.stacks.parent],
    stackFrame: [...p.stacks.frame],
    sampleStack: [...p.samples.stack],
    sampleThread: [...p.samples.thread],
    sampleTimeNs: [...p.samples.time],
    sampleWeight: [...p.samples.weight],
    threadTid: p.threads.map((t) => t.tid),
    threadName: p.threads.map((t) => t.name),
  })
}
