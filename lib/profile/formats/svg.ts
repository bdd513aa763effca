/** The flame graph SVG, drawn by inferno in the symbolizer addon from the folded stacks. */
import type { ProfileData } from '../types'
import { symbolizerCall } from '../symbolizer'
import { escapeControls } from '../sanitize'
import { rangeError, typeError } from '../../events/check'
import { formatWeight, groupDigits, isJsLevel } from '../labels'
import { toFolded } from './folded'

/** The title says what a frame's width is, in a human unit: `3.10 s of cpu-clock`, `16 384 page faults`; wall and off-CPU profiles weigh time, not samples. */
function defaultTitle(p: ProfileData): string {
  const total = formatWeight(p.totalWeight, p.meta.unit, p.meta.event)
  if (p.meta.event === 'wall') return `Wall time: width = time on CPU + off CPU (${total} over all threads)`
  if (p.meta.event === 'off-cpu') return `Off-CPU time: width = time threads waited ([blocked], [run queue], [idle]; ${total} over all threads)`
  return `${total}${p.meta.unit === 'ns' ? ` of ${p.meta.event}` : ''}`
}

/** Pixel widths `toSvg` accepts. */
export const SVG_WIDTH = { min: 100, max: 100_000 }

/** Options of `toSvg`. */
export interface SvgOptions {
  /** Title (default: the total weight with its unit and the event, `3.10 s of cpu-clock`, `16 384 page faults`). */
  title?: string
  /** Pixel width (default: fits the window: `width="100%"`, boxes sized in percent). */
  width?: number
  /**
   * Every frame as sampled, C++ names with parameter lists. Default false for a profile with JS
   * frames: native/V8 frames below and between JS functions are folded away (those a JS function
   * called stay above it), a function's tiers are one box.
   */
  full?: boolean
}

/** The colour inferno's `js` palette gives a name `toFolded` wrote (its rules, in its order). */
function colourOf(n: string): string {
  if (n.endsWith('_[k]')) return 'orange'
  if (n.endsWith('_[j]')) return n.includes('/') ? 'green' : 'aqua'
  if (n.includes('::')) return 'yellow'
  if (n.includes(':')) return 'aqua'
  const slash = n.indexOf('/')
  if (slash >= 0 && n.slice(slash).includes('node_modules/')) return 'purple'
  if (slash >= 0 && n.slice(slash).includes('.js')) return 'green'
  return 'red'
}

/** The legend: what each colour means, in this order. */
const LEGEND: Record<string, string> = {
  green: 'green: JS of the app (file path)',
  aqua: "aqua: Node's own JS (node:…) and V8 code named by its perf map (RegExp:, Builtin:…)",
  yellow: 'yellow: C++',
  red: 'red: C, V8 builtins (Builtins_…) and other native code',
  purple: 'purple: node_modules',
  orange: 'orange: kernel',
}

/**
 * A self-contained, interactive flame graph SVG (inferno, in the symbolizer addon, off the JS thread).
 * JS-first for a Node program unless `full`; the subtitle is a legend of every colour drawn.
 * Always well-formed XML: names and the title have their control characters escaped (`\x1b`).
 */
export async function toSvg(p: ProfileData, options: SvgOptions = {}): Promise<string> {
  if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
  if (options.title !== undefined && typeof options.title !== 'string') throw typeError('a string', 'options.title', options.title)
  if (options.full !== undefined && typeof options.full !== 'boolean') throw typeError('a boolean', 'options.full', options.full)
  const { width } = options
  if (width !== undefined) {
    const want = `an integer from ${SVG_WIDTH.min} to ${SVG_WIDTH.max} (pixels)`
    if (typeof width !== 'number' || !Number.isInteger(width)) throw typeError(want, 'options.width', width)
    if (width < SVG_WIDTH.min || width > SVG_WIDTH.max) throw rangeError(want, 'options.width', width)
  }
  const jsFirst = !options.full && p.frames.some(isJsLevel)
  const folded = toFolded(p, { fold: jsFirst, short: !options.full })
  const colours = new Set<string>()
  for (const line of folded.split('\n')) for (const n of line.slice(0, line.lastIndexOf(' ')).split(';')) if (n) colours.add(colourOf(n))
  if (!folded.length) colours.add('red')
  const legend = Object.keys(LEGEND).filter((c) => colours.has(c)).map((c) => LEGEND[c])
  const view = jsFirst ? 'native frames below and between JS functions folded (toSvg({ full: true }) keeps them)' : 'every frame'
  const sub = `${groupDigits(p.sampleCount)} samples${p.lost.count ? `, ${groupDigits(p.lost.count)} lost` : ''}; ${view}. ${legend.join(', ')}`
  const title = options.title ?? defaultTitle(p)
  return symbolizerCall('flameGraph', (s) =>
    s.flameGraph(folded.length ? folded : '[no samples] 1\n', {
      title: escapeControls(title),
      subtitle: escapeControls(sub),
      countName: p.meta.unit === 'ns' ? 'ns' : formatWeight(2, p.meta.unit, p.meta.event).slice(2),
      width: options.width,
    }),
  )
}
