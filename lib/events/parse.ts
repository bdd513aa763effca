/** Event strings (see README: event grammar) → resolved events. */

import type { NativeEvent } from '../../index'
import type { NativePriv as Exclude } from '../../index'
import { PMU_ROOT } from '../system/kernel'
import { parseU64, rangeError } from './check'
import { CACHE, CACHE_OP, CACHE_RESULT, HARDWARE, SOFTWARE, perfName } from './names'
import { parsePmuEvent } from './pmu'
import { tracepointId } from './tracepoint'
import type { ResolvedEvent } from './types'
import { didYouMean, unknown } from './unknown'

/** Event strings are bounded: they may come from configuration or untrusted input. */
export const MAX_EVENT_LENGTH = 4096

/**
 * Applies perf's modifiers: `u` user only, `k` kernel only, `h` hypervisor only,
 * `H` host only, `G` guest only, `I` exclude idle, `p`/`pp`/`ppp` skid.
 */
function modifiers(mods: string, event: string): Pick<ResolvedEvent, 'exclude' | 'skid'> {
  if (!mods) return {}
  if (!/^[ukhHGIp]+$/.test(mods)) throw new TypeError(`Unknown modifier in ${JSON.stringify(event)}: expected letters of u, k, h, H, G, I, p but received ${JSON.stringify(mods)}`)
  const has = (c: string) => mods.includes(c)
  const exclude: Exclude = {}
  if (has('u') || has('k') || has('h')) {
    exclude.user = !has('u')
    exclude.kernel = !has('k')
    exclude.hv = !has('h')
  }
  if (has('H') && !has('G')) exclude.guest = true
  if (has('G') && !has('H')) exclude.host = true
  if (has('I')) exclude.idle = true
  const p = mods.split('').filter((c) => c === 'p').length
  const skid = ([undefined, 'const', 'reqZero', 'zero'] as const)[Math.min(p, 3)]
  return { exclude: Object.keys(exclude).length ? exclude : undefined, skid }
}

function parseBreakpoint(spec: string, label: string): NativeEvent {
  const m = /^mem:(0x[0-9a-f]+|[0-9]+)(?:\/([0-9]+))?(?::([rwx]+))?$/i.exec(spec)
  if (!m) throw new TypeError(`Expected mem:ADDR[/LEN][:rwx] for breakpoint event but received ${JSON.stringify(label)}`)
  const addr = parseU64(m[1], `address of ${JSON.stringify(label)}`)
  const chars = new Set((m[3] ?? 'rw').toLowerCase())
  const access = chars.has('x') ? (chars.size === 1 ? 'x' : undefined) : chars.has('r') && chars.has('w') ? 'rw' : chars.has('r') ? 'r' : 'w'
  if (access === undefined) throw new TypeError(`Expected r, w, rw or x as access of ${JSON.stringify(label)}: the kernel cannot combine execute with read/write`)
  const len = m[2] === undefined ? undefined : Number(m[2])
  if (len !== undefined && (len < 1 || len > 8)) throw rangeError('a length from 1 to 8', `breakpoint ${JSON.stringify(label)}`, len)
  if (access === 'x' && len !== undefined && len !== 8) throw rangeError('no length (or 8) for an execute breakpoint', JSON.stringify(label), len)
  return { type: 'breakpoint', access, addr, len: access === 'x' ? undefined : len }
}

/** Parses a perf-style event string. See the README for the grammar. */
export function parseEvent(text: string): ResolvedEvent {
  const label = text
  if (text.length > MAX_EVENT_LENGTH)
    throw new RangeError(`Expected an event string of at most ${MAX_EVENT_LENGTH} characters for event but received one of ${text.length} characters`)
  const s = text.trim()
  if (!s) throw new TypeError('Expected an event name but received an empty string')
  // pmu/terms/modifiers
  const pmu = /^([A-Za-z0-9_.-]+)\/([^/]*)\/([A-Za-z]*)$/.exec(s)
  if (pmu) return named(parsePmuEvent(pmu[1], pmu[2], label), label, `${pmu[1]}/${pmu[2]}/`, modifiers(pmu[3], label))
  if (/^mem:/i.test(s)) return named(parseBreakpoint(s, label), label, s)
  const parts = s.split(':')
  // name[:modifiers]
  const base = parts[0]
  const mods = parts.length === 2 && /^[ukhHGIp]+$/.test(parts[1]) ? parts[1] : parts.length === 1 ? '' : undefined
  if (mods !== undefined) {
    const lower = base.toLowerCase()
    const hw = HARDWARE.get(lower)
    if (hw) return named({ type: 'hardware', name: hw }, label, base, modifiers(mods, label))
    const sw = SOFTWARE.get(lower)
    if (sw) return named({ type: 'software', name: sw }, label, base, modifiers(mods, label))
    const raw = /^r([0-9a-f]+)$/i.exec(base)
    if (raw) return named({ type: 'raw', config: parseU64(`0x${raw[1]}`, label) }, label, base, modifiers(mods, label))
    const cache = /^(l1-dcache|l1-icache|llc|dtlb|itlb|branch|node)-([a-z]+)(?:-([a-z]+))?$/.exec(lower)
    const op = cache ? CACHE_OP.get(cache[2]) : undefined
    const result = cache ? (cache[3] === undefined ? 'access' : CACHE_RESULT.get(cache[3])) : undefined
    if (cache && op && result) {
      return named({ type: 'hwCache', cache: CACHE.get(cache[1])!, op, result }, label, base, modifiers(mods, label))
    }
  }
  // subsystem:tracepoint[:modifiers]
  const pathPart = (p: string) => /^[A-Za-z0-9_.-]+$/.test(p) && p !== '.' && p !== '..'
  if ((parts.length === 2 || parts.length === 3) && pathPart(parts[0]) && pathPart(parts[1])) {
    return named({ type: 'tracepoint', id: tracepointId(parts[0], parts[1], label) }, label, `${parts[0]}:${parts[1]}`, modifiers(parts[2] ?? '', label))
  }
  throw unknown(label, [
    'not a hardware, software or cache event name (see README: event grammar)',
    'not a raw event (rHEX)',
    'not a tracepoint (subsystem:name)',
    `not a PMU event (pmu/terms/, PMUs in ${PMU_ROOT})`,
    'not a breakpoint (mem:ADDR[/LEN][:rwx])',
  ], didYouMean(parts[0]))
}

export function named(native: NativeEvent, label: string, base: string, mods: Pick<ResolvedEvent, 'exclude' | 'skid'> = {}): ResolvedEvent {
  return { native, label, name: perfName(native, base), ...mods }
}
