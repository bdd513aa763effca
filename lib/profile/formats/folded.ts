/** Folded stacks (`root;…;leaf weight` lines): flamegraph.pl, inferno, speedscope; the SVG flame graph draws from them. */
import type { Frame, ProfileData } from '../types'
import { escapeControls } from '../sanitize'
import { displayName, isJsLevel } from '../labels'

/** Options of the folded-stacks export. */
export interface FoldedOptions {
  /** Put the thread (`name-tid`) as the root frame: default when the profile has more than one thread. */
  threads?: boolean
  /** Suffix JS frames with `_[j]` and kernel frames with `_[k]` (flamegraph.pl / inferno `--colors js`). Default true. */
  annotate?: boolean
  /**
   * JS-first stacks: native and V8 frames below and between JS functions are left out, those above
   * the last JS function (the native/kernel code it called) stay; a stack without JS frames stays
   * whole. Default false (the SVG flame graph folds by default for Node programs).
   */
  fold?: boolean
  /** Names as `top()` prints them: a JS function's tiers as one `name file:line`, C++ names without parameter lists. Default false. */
  short?: boolean
}

function foldedName(f: Frame, annotate: boolean, short: boolean): string {
  // A text format (one stack a line, read by terminals and SVG writers): control characters escaped.
  const l = escapeControls((short ? displayName(f) : f.label).replace(/;/g, ':').replace(/\s+$/, ''))
  if (!annotate) return l
  if (f.kind === 'js') return `${l}_[j]`
  if (f.kind === 'kernel') return `${l}_[k]`
  return l
}

/** Folded stacks: one `root;…;leaf weight` line per distinct stack (and thread), weights summed. */
export function toFolded(p: ProfileData, options: FoldedOptions = {}): string {
  const threads = options.threads ?? p.threads.length > 1
  const annotate = options.annotate ?? true
  const names = p.frames.map((f) => foldedName(f, annotate, options.short ?? false))
  const fold = options.fold ?? false
  const jsLevel = p.frames.map(isJsLevel)
  const stackText = new Map<number, string>()
  const text = (s: number): string => {
    let t = stackText.get(s)
    if (t === undefined) {
      let frames = s < 0 ? [] : p.stackFrames(s)
      if (fold) {
        let last = frames.length - 1
        while (last >= 0 && !jsLevel[frames[last]]) last--
        if (last >= 0) frames = [...frames.slice(0, last + 1).filter((f) => jsLevel[f]), ...frames.slice(last + 1)]
      }
      t = frames.map((f) => names[f]).join(';')
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
