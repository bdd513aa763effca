/** Chrome/V8 `.cpuprofile`, as `node --cpu-prof` writes it: DevTools, VS Code, speedscope. */
import type { ProfileData } from '../types'

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
