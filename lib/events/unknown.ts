/** Unknown events: the ERR_UNKNOWN_EVENT error and its did-you-mean suggestions. */

import { PerfEventError } from '../errors/perf-event-error'
import { knownEventNames } from './names'

/** Edit distance (Levenshtein), two rows: O(a·b) time, O(b) memory. Gives up (Infinity) above `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return Infinity
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      best = Math.min(best, cur[j])
    }
    if (best > max) return Infinity
    prev = cur
  }
  return prev[b.length]
}

/** The known event names closest to `name` (at most 3, within a third of its length), for "did you mean". */
export function closestEventNames(name: string): string[] {
  const lower = name.toLowerCase()
  if (!lower || lower.length > 64) return []
  const max = Math.max(1, Math.floor(lower.length / 3))
  const known = knownEventNames()
  const scored = [...known.hardware, ...known.software, ...known.cache]
    .map((n) => ({ n, d: distance(lower, n.toLowerCase(), max) }))
    .filter((x) => x.d <= max)
    .sort((x, y) => x.d - y.d)
  return scored.slice(0, 3).map((x) => x.n)
}

/** The names among `candidates` closest to `name` (at most 3, within a third of its length): did-you-mean for tracepoints and PMU terms. */
export function closestNames(name: string, candidates: readonly string[]): string[] {
  const lower = name.toLowerCase()
  if (!lower || lower.length > 128) return []
  const max = Math.max(1, Math.floor(lower.length / 3))
  return candidates
    .map((n) => ({ n, d: distance(lower, n.toLowerCase(), max) }))
    .filter((x) => x.d <= max)
    .sort((x, y) => x.d - y.d)
    .filter((x, _, all) => x.d <= all[0].d + 1)
    .slice(0, 3)
    .map((x) => x.n)
}

/** " Did you mean 'a' or 'b'?" or ''. */
export function suggest(names: string[]): string {
  return names.length ? ` Did you mean ${names.map((n) => `'${n}'`).join(' or ')}?` : ''
}

export function unknown(name: string, looked: string[], hint?: string): PerfEventError {
  return new PerfEventError(`Unknown event ${JSON.stringify(name)}: ${looked.join('; ')}`, 'ERR_UNKNOWN_EVENT', {
    syscall: 'lookup',
    hint,
  })
}

export function didYouMean(name: string): string | undefined {
  const close = closestEventNames(name)
  return close.length ? `Did you mean ${close.map((n) => `'${n}'`).join(' or ')}? All names: perf-event-open list (the CLI), listEvents() or knownEventNames().` : undefined
}
