/**
 * Chrome/V8 `.cpuprofile`, as `node --cpu-prof` writes it: DevTools, VS Code, speedscope.
 *
 * How its readers read it, and what this writer does for that:
 * - Time comes from `timeDeltas` (µs; the first from `startTime`): a sample lasts until the next one
 *   (the last until `endTime`). DevTools' call tree also gives every sample the same share,
 *   `(endTime - startTime) / samples`. So the samples are a timeline at the sampling interval, as V8's
 *   own: each clock sample starts where the kernel's period for it began (its time minus its weight,
 *   placed against `startTime` by `meta.firstSampleTime`), and where no thread ran for longer than an
 *   interval, `(idle)` samples fill the gap at that interval (V8 writes `(idle)` the same way), to
 *   `endTime`. Deltas are never negative and add up to the span within one interval.
 * - One root per thread: `(root)` has a child per thread (`node (main) [tid 4242]`; with the pid
 *   too when the profile holds several processes), the thread's stacks below it, and `(idle)`.
 *   Threads running at once share the timeline (the format has one): each thread's share of the
 *   span is its share of the samples.
 * - JS frames have `file://` urls for absolute paths (as `--cpu-prof` writes them; `node:` and
 *   other urls as they are), 0-based line and column, one `scriptId` per url. Native frames name
 *   their module as url (scriptId 0); kernel frames end in ` [kernel]`.
 * Event profiles (page faults, cycles…) and clock profiles without a frequency or period (off-CPU) place each
 * sample at its start, without `(idle)` filling.
 */
import { pathToFileURL } from 'node:url'
import type { ProfileData } from '../types'

/** What `node --cpu-prof` writes (DevTools, VS Code, speedscope). Times in µs; one node per distinct stack. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number }; hitCount: number; children?: number[] }[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

type CallFrame = CpuProfile['nodes'][number]['callFrame']

/** A JS file's url as V8 writes it: absolute paths as `file://` urls. */
function scriptUrl(file: string): string {
  return file.startsWith('/') ? pathToFileURL(file).href : file
}

/** Chrome `.cpuprofile`: `(root)`, a node per thread, the stacks below; samples a timeline at the sampling interval. */
export function toCpuProfile(p: ProfileData): CpuProfile {
  const nodes: CpuProfile['nodes'] = []
  const scriptIds = new Map<string, string>()
  const add = (parent: number | undefined, callFrame: CallFrame): number => {
    const id = nodes.length + 1
    nodes.push({ id, callFrame, hitCount: 0 })
    if (parent !== undefined) (nodes[parent - 1].children ??= []).push(id)
    return id
  }
  const frame = (functionName: string, url = '', line = 0, column = 0, script = false): CallFrame => {
    let scriptId = '0'
    if (script && url) {
      scriptId = scriptIds.get(url) ?? String(scriptIds.size + 1)
      scriptIds.set(url, scriptId)
    }
    return { functionName, scriptId, url, lineNumber: line - 1, columnNumber: column - 1 }
  }
  const root = add(undefined, frame('(root)'))
  const idle = add(root, frame('(idle)'))
  const pids = new Set(p.threads.map((t) => t.pid))
  const threadNode = p.threads.map((t) => add(root, frame(pids.size > 1 ? `${t.name} [pid ${t.pid} tid ${t.tid}]` : `${t.name} [tid ${t.tid}]`)))
  // Node of (thread, stack): stacks are shared by threads in the model, the tree here is per thread.
  const nodeOf = new Map<number, number>()
  const node = (thread: number, s: number): number => {
    if (s < 0) return threadNode[thread]
    const key = s * p.threads.length + thread
    let n = nodeOf.get(key)
    if (n !== undefined) return n
    const parent = node(thread, p.stacks.parent[s])
    const f = p.frames[p.stacks.frame[s]]
    const name = f.kind === 'js' ? f.name : f.kind === 'kernel' ? `${f.label} [kernel]` : f.label
    n = add(parent, f.kind === 'js' ? frame(name, f.file ? scriptUrl(f.file) : '', f.line ?? 0, f.column ?? 0, true) : frame(name, f.module ?? ''))
    nodeOf.set(key, n)
    return n
  }

  const startUs = p.meta.startTime * 1000
  const endUs = Math.max(startUs, p.meta.endTime * 1000)
  const zeroUs = (p.meta.firstSampleTime ?? p.meta.startTime) * 1000
  const clock = p.meta.unit === 'ns'
  const clamp = (t: number) => Math.min(endUs, Math.max(startUs, t))
  // A clock sample ends at its time and covers the period before it (its weight, ns); an event sample is a point.
  const end = new Float64Array(p.sampleCount)
  const begin = new Float64Array(p.sampleCount)
  for (let i = 0; i < p.sampleCount; i++) {
    const at = zeroUs + p.samples.time[i] / 1000
    end[i] = clamp(at)
    begin[i] = clamp(clock ? at - p.samples.weight[i] / 1000 : at)
  }
  const order = [...Array(p.sampleCount).keys()].sort((a, b) => begin[a] - begin[b])
  // The sampling interval (µs) that idle gaps are filled at: a sampled clock's 1/freq or period (ns), else none.
  const interval = !clock ? 0 : p.meta.freq ? 1e6 / p.meta.freq : p.meta.period ? p.meta.period / 1000 : 0

  const samples: number[] = []
  const timeDeltas: number[] = []
  let last = Math.round(startUs)
  const emit = (n: number, at: number) => {
    // Deltas of rounded absolute times: no drift over many samples, never negative.
    const t = Math.max(last, Math.round(at))
    nodes[n - 1].hitCount++
    samples.push(n)
    timeDeltas.push(t - last)
    last = t
  }
  /** `(idle)` from `from` while the next sample is more than half an interval away. */
  const fillIdle = (from: number, to: number) => {
    if (interval === 0 || to - from < 1.5 * interval) return
    for (let t = from; to - t > interval / 2; t += interval) emit(idle, t)
  }
  let busy = startUs // where the last period seen so far ends
  for (const i of order) {
    fillIdle(busy, begin[i])
    emit(node(p.samples.thread[i], p.samples.stack[i]), begin[i])
    busy = Math.max(busy, end[i])
  }
  fillIdle(busy, endUs)
  return { nodes, startTime: Math.round(startUs), endTime: Math.round(endUs), samples, timeDeltas }
}
