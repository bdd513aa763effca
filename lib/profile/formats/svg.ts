/** The flame graph SVG, drawn by inferno in the symbolizer addon from the folded stacks. */
import type { ProfileData } from '../types'
import { symbolizerCall } from '../symbolizer'
import { escapeControls } from '../sanitize'
import { rangeError, typeError } from '../../events/check'
import { toFolded } from './folded'

/** The title says what a frame's width is: wall and off-CPU profiles weigh time, not samples. */
function defaultTitle(p: ProfileData, total: number): string {
  const ms = `${(total / 1e6).toFixed(1)} ms`
  if (p.meta.event === 'wall') return `Wall time: width = time on CPU + off CPU (${ms} over all threads)`
  if (p.meta.event === 'off-cpu') return `Off-CPU time: width = time threads waited ([blocked], [run queue], [idle]; ${ms} over all threads)`
  return `${p.meta.event} profile (${total} ${p.meta.unit})`
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
  return symbolizerCall('flameGraph', (s) =>
    s.flameGraph(folded.length ? folded : '[no samples] 1\n', {
      title: escapeControls(options.title ?? defaultTitle(p, total)),
      subtitle: escapeControls(sub),
      countName: p.meta.unit,
      width: options.width,
    }),
  )
}
