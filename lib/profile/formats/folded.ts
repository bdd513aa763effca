/** Folded stacks (`root;…;leaf weight` lines): flamegraph.pl, inferno, speedscope; the SVG flame graph draws from them. */
import type { Frame, ProfileData } from '../types'
import { escapeControls } from '../sanitize'

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
