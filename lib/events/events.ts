import type { CacheName, CacheOp, CacheResult, HardwareEventName, NativeEvent, SoftwareEventName } from '../../index'
import { PerfEventError } from '../errors/perf-event-error'
import { LOOKUP_HINTS, pmuMissingHint } from '../errors/hints'
import { rangeError, toU64, typeError, type U64 } from './check'
import type { NativePriv as Exclude } from '../../index'
import { accessCode, exists, listDir as list, readText as read } from '../system/files'
import { PMU_ROOT, TRACEFS_ROOTS, pmuNames, pmuType as pmuTypeText, tracefsRoot } from '../system/kernel'

// The names are written once, in src/event.rs (`#[napi(string_enum)]`): these types come from the generated index.d.ts.
export type { HardwareEventName, SoftwareEventName, CacheName, CacheOp, CacheResult }
export type { U64 }
/** Where dynamic PMUs and tracefs are (lib/system/); re-exported for the CLI. */

/**
 * A perf event as a typed object, mirroring the crate's event types.
 * Strings such as `'task-clock'` or `'msr/tsc/'` are parsed into these.
 */
export type EventSpec =
  /** Generic hardware event. */
  | { type: 'hardware'; name: HardwareEventName }
  /** Generic hardware cache event (`PERF_TYPE_HW_CACHE`). */
  | { type: 'hwCache'; cache: CacheName; op: CacheOp; result: CacheResult }
  /** Software event. */
  | { type: 'software'; name: SoftwareEventName }
  /** CPU-specific raw event (`PERF_TYPE_RAW`); `config3` since Linux 6.3. */
  | { type: 'raw'; config: U64; config1?: U64; config2?: U64; config3?: U64 }
  /** Tracepoint by id (`events/<sys>/<name>/id` under tracefs). Needs root or CAP_PERFMON. */
  | { type: 'tracepoint'; id: U64 }
  /**
   * Hardware breakpoint: count reads (`r`), writes (`w`), both (`rw`) or executions (`x`) of `addr`.
   * `len` is 1, 2, 4 or 8 bytes (3, 5, 6, 7 since Linux 4.10); `x` always uses the size of a long.
   */
  | { type: 'breakpoint'; access: 'r' | 'w' | 'rw' | 'x'; addr: U64; len?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 }
  /** Event of a dynamic PMU (`/sys/bus/event_source/devices/<pmu>/type`); `pmu` is the type number or the PMU name. */
  | { type: 'dynamic'; pmu: number | string; config: U64; config1?: U64; config2?: U64; config3?: U64 }
  /** Kernel probe (or return probe with `ret`) on `symbol`+`offset` or on `addr`. Needs the kprobe PMU and privilege. */
  | { type: 'kprobe'; symbol: string; offset?: U64; ret?: boolean }
  | { type: 'kprobe'; addr: U64; ret?: boolean }
  /** User probe (or return probe with `ret`) at file `offset` of the ELF file at `path`. Needs the uprobe PMU and privilege. */
  | { type: 'uprobe'; path: string; offset: U64; ret?: boolean }

/**
 * What `new Counter(event)` accepts: an event string (see README: event grammar) or a typed object.
 * Known names complete in editors; any other string (tracepoints, PMU events, modifiers) is accepted too.
 */
export type EventInput = KnownEventName | (string & {}) | EventSpec


/** An event ready for native code, with what its string's modifiers asked for. */
export interface ResolvedEvent {
  native: NativeEvent
  /** Human label: the string given, or a short description of the object. */
  label: string
  /**
   * perf-style name without modifiers, the same for every spelling of one event: `'task-clock'` for
   * `'task-clock:u'`, `{ type: 'software', name: 'taskClock' }` and `'software/config=1/'`.
   */
  name: string
  /** Privilege-level exclusions implied by modifiers such as `:u`. */
  exclude?: Exclude
  skid?: 'arbitrary' | 'const' | 'reqZero' | 'zero'
}

/**
 * perf's names → the crate's. `Map`s, so that a user string never finds an `Object.prototype`
 * member; typed `satisfies` so that a name missing from a table fails to compile.
 */
const HARDWARE_ENTRIES = [
  ['cycles', 'cpuCycle'],
  ['cpu-cycles', 'cpuCycle'],
  ['instructions', 'instr'],
  ['cache-references', 'cacheAccess'],
  ['cache-misses', 'cacheMiss'],
  ['branches', 'branchInstr'],
  ['branch-instructions', 'branchInstr'],
  ['branch-misses', 'branchMiss'],
  ['bus-cycles', 'busCycle'],
  ['stalled-cycles-frontend', 'frontendStalledCycle'],
  ['idle-cycles-frontend', 'frontendStalledCycle'],
  ['stalled-cycles-backend', 'backendStalledCycle'],
  ['idle-cycles-backend', 'backendStalledCycle'],
  ['ref-cycles', 'refCpuCycle'],
] as const satisfies readonly (readonly [string, HardwareEventName])[]

const SOFTWARE_ENTRIES = [
  ['cpu-clock', 'cpuClock'],
  ['task-clock', 'taskClock'],
  ['page-faults', 'pageFault'],
  ['faults', 'pageFault'],
  ['minor-faults', 'minorPageFault'],
  ['major-faults', 'majorPageFault'],
  ['emulation-faults', 'emuFault'],
  ['alignment-faults', 'alignFault'],
  ['context-switches', 'ctxSwitch'],
  ['cs', 'ctxSwitch'],
  ['cgroup-switches', 'cgroupSwitch'],
  ['dummy', 'dummy'],
  ['bpf-output', 'bpfOutput'],
  ['cpu-migrations', 'cpuMigration'],
  ['migrations', 'cpuMigration'],
] as const satisfies readonly (readonly [string, SoftwareEventName])[]

const CACHE_ENTRIES = [
  ['L1-dcache', 'l1d'],
  ['L1-icache', 'l1i'],
  ['LLC', 'll'],
  ['dTLB', 'dtlb'],
  ['iTLB', 'itlb'],
  ['branch', 'bpu'],
  ['node', 'node'],
] as const satisfies readonly (readonly [string, CacheName])[]

const CACHE_OP_ENTRIES = [
  ['load', 'read'],
  ['loads', 'read'],
  ['read', 'read'],
  ['store', 'write'],
  ['stores', 'write'],
  ['write', 'write'],
  ['prefetch', 'prefetch'],
  ['prefetches', 'prefetch'],
] as const satisfies readonly (readonly [string, CacheOp])[]

const CACHE_RESULT_ENTRIES = [
  ['miss', 'miss'],
  ['misses', 'miss'],
  ['access', 'access'],
  ['accesses', 'access'],
  ['refs', 'access'],
  ['references', 'access'],
] as const satisfies readonly (readonly [string, CacheResult])[]

/** Every member of `U` must appear as a value of the table `T`: a missing one is a compile error. */
type Covers<T extends readonly (readonly [string, string])[], U extends string> = [U] extends [T[number][1]] ? true : never
const covered: [
  Covers<typeof HARDWARE_ENTRIES, HardwareEventName>,
  Covers<typeof SOFTWARE_ENTRIES, SoftwareEventName>,
  Covers<typeof CACHE_ENTRIES, CacheName>,
  Covers<typeof CACHE_OP_ENTRIES, CacheOp>,
  Covers<typeof CACHE_RESULT_ENTRIES, CacheResult>,
] = [true, true, true, true, true]
void covered

const lowerMap = <V>(entries: readonly (readonly [string, V])[]) => new Map<string, V>(entries.map(([k, v]) => [k.toLowerCase(), v]))
const HARDWARE = lowerMap<HardwareEventName>(HARDWARE_ENTRIES)
const SOFTWARE = lowerMap<SoftwareEventName>(SOFTWARE_ENTRIES)
const CACHE = lowerMap<CacheName>(CACHE_ENTRIES)
const CACHE_OP = lowerMap<CacheOp>(CACHE_OP_ENTRIES)
const CACHE_RESULT = lowerMap<CacheResult>(CACHE_RESULT_ENTRIES)

const HARDWARE_NAMES = new Set<HardwareEventName>(HARDWARE.values())
const SOFTWARE_NAMES = new Set<SoftwareEventName>(SOFTWARE.values())
const CACHE_NAMES = new Set<CacheName>(CACHE.values())
const CACHE_OPS = new Set<CacheOp>(CACHE_OP.values())
const CACHE_RESULTS = new Set<CacheResult>(CACHE_RESULT.values())

/** perf-style event names this package knows, e.g. `'task-clock'`, `'L1-dcache-load-misses'` (each accepts `:u`-style modifiers). */
export type KnownEventName =
  | (typeof HARDWARE_ENTRIES)[number][0]
  | (typeof SOFTWARE_ENTRIES)[number][0]
  | `${(typeof CACHE_ENTRIES)[number][0]}-${'loads' | 'stores' | 'prefetches'}`
  | `${(typeof CACHE_ENTRIES)[number][0]}-${'load' | 'store' | 'prefetch'}-misses`

/**
 * The perf-style names of the generic events: hardware, software, and every
 * hardware cache combination (`L1-dcache-loads`, `L1-dcache-load-misses`…), as `perf list` spells them.
 */
export function knownEventNames(): { hardware: string[]; software: string[]; cache: string[] } {
  const cache: string[] = []
  for (const [c] of CACHE_ENTRIES)
    for (const op of ['load', 'store', 'prefetch'])
      for (const r of ['s', '-misses']) cache.push(`${c}-${op}${r === 's' ? (op === 'prefetch' ? 'es' : 's') : r}`)
  return { hardware: HARDWARE_ENTRIES.map(([k]) => k), software: SOFTWARE_ENTRIES.map(([k]) => k), cache }
}

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
function suggest(names: string[]): string {
  return names.length ? ` Did you mean ${names.map((n) => `'${n}'`).join(' or ')}?` : ''
}

/** Event strings are bounded: they may come from configuration or untrusted input. */
export const MAX_EVENT_LENGTH = 4096

function unknown(name: string, looked: string[], hint?: string): PerfEventError {
  return new PerfEventError(`Unknown event ${JSON.stringify(name)}: ${looked.join('; ')}`, 'ERR_UNKNOWN_EVENT', {
    syscall: 'lookup',
    hint,
  })
}

/** Parses a u64 written in decimal or 0x-hex. */
function parseU64(text: string, what: string): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new TypeError(`Expected a decimal or 0x-hex number for ${what} but received ${JSON.stringify(text)}`)
  const v = BigInt(text)
  if (v >= 1n << 64n) throw new RangeError(`Expected a value below 2^64 for ${what} but received ${text}`)
  return v
}

function optU64(value: unknown, name: string): bigint | undefined {
  return value === undefined ? undefined : toU64(value, name)
}

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

function tracepointId(sys: string, name: string, label: string): bigint {
  const looked: string[] = []
  for (const root of TRACEFS_ROOTS) {
    const path = `${root}/events/${sys}/${name}/id`
    looked.push(path)
    const id = read(path)
    if (id !== undefined) return BigInt(id)
  }
  // Not found, not mounted, or not readable by this user (tracefs is often mode 700): say which.
  const readable = TRACEFS_ROOTS.some((r) => accessCode(`${r}/events`) === undefined)
  const denied = readable
    ? undefined
    : TRACEFS_ROOTS.find((r) => {
        const code = accessCode(r)
        return code === 'EACCES' || code === 'EPERM'
      })
  if (denied !== undefined)
    throw new PerfEventError(`Cannot read tracepoint ${sys}:${name}: ${denied} is not readable by this user (EACCES)`, 'EACCES', {
      syscall: 'open',
      errno: 13,
      hint: LOOKUP_HINTS.tracefsDenied(denied),
    })
  const root = tracefsRoot()
  let near = ''
  if (root !== undefined) {
    // Did you mean: another tracepoint of this subsystem, or the same name in the closest subsystems.
    const inSys = list(`${root}/events/${sys}`).filter((n) => exists(`${root}/events/${sys}/${n}/id`))
    if (inSys.length) near = suggest(closestNames(name, inSys).map((n) => `${sys}:${n}`))
    else {
      const systems = closestNames(sys, list(`${root}/events`).filter((n) => exists(`${root}/events/${n}/${name}/id`) || exists(`${root}/events/${n}/enable`)))
      near = suggest(systems.map((s2) => (exists(`${root}/events/${s2}/${name}/id`) ? `${s2}:${name}` : `${s2}:…`)))
    }
  }
  throw unknown(label, [`no tracepoint ${sys}:${name} (looked for ${looked.join(' and ')})`],
    root !== undefined ? LOOKUP_HINTS.tracepoints(near.trim() ? `${near.trim()} ` : '', sys, root) : LOOKUP_HINTS.tracefsNotMounted())
}

/** Reads a PMU's type number. */
function pmuType(pmu: string, label = pmu): number {
  const type = pmuTypeText(pmu)
  if (type === undefined) {
    const present = pmuNames()
    const near = suggest(closestNames(pmu, present).map((p) => `${p}/…/`)).trim()
    throw unknown(label, [`no PMU ${JSON.stringify(pmu)} in ${PMU_ROOT} (present: ${present.join(', ') || 'none'})`], LOOKUP_HINTS.pmus(near ? `${near} ` : ''))
  }
  return Number(type)
}

type ConfigField = 'config' | 'config1' | 'config2' | 'config3'

/** Inserts `value` into the bit ranges of a `format/` file such as `config:0-7,32-35`. */
function applyFormat(fields: Record<ConfigField, bigint>, format: string, value: bigint, term: string, label: string) {
  const m = /^(config[123]?):([0-9,-]+)$/.exec(format)
  if (!m) throw unknown(label, [`cannot read format ${JSON.stringify(format)} of term ${term}`])
  const field = m[1] as ConfigField
  let rest = value
  let width = 0
  for (const range of m[2].split(',')) {
    const [lo, hi = lo] = range.split('-').map(Number)
    const bits = hi - lo + 1
    width += bits
    const mask = (1n << BigInt(bits)) - 1n
    fields[field] |= (rest & mask) << BigInt(lo)
    rest >>= BigInt(bits)
  }
  if (rest !== 0n) throw new RangeError(`Expected a value that fits ${width} bits for term ${term} of ${JSON.stringify(label)} but received 0x${value.toString(16)}`)
}

function parsePmuEvent(pmu: string, terms: string, label: string): NativeEvent {
  const type = pmuType(pmu, label)
  const quoted = JSON.stringify(label)
  const fields: Record<ConfigField, bigint> = { config: 0n, config1: 0n, config2: 0n, config3: 0n }
  const dir = `${PMU_ROOT}/${pmu}`
  const apply = (termList: string, depth: number) => {
    for (const raw of termList.split(',').map((t) => t.trim()).filter(Boolean)) {
      const eq = raw.indexOf('=')
      const key = eq < 0 ? raw : raw.slice(0, eq)
      const value = eq < 0 ? 1n : parseU64(raw.slice(eq + 1), `term ${key} of ${quoted}`)
      if (key === 'config' || key === 'config1' || key === 'config2' || key === 'config3') {
        fields[key] |= value
        continue
      }
      const format = read(`${dir}/format/${key}`)
      if (format !== undefined) {
        applyFormat(fields, format, value, key, label)
        continue
      }
      const alias = eq < 0 && depth === 0 ? read(`${dir}/events/${key}`) : undefined
      if (alias !== undefined) {
        apply(alias, depth + 1)
        continue
      }
      const formats = list(`${dir}/format`)
      const events = list(`${dir}/events`).filter((e) => !e.includes('.'))
      const near = suggest(closestNames(key, [...formats, ...events]).map((n) => `${pmu}/${n}/`)).trim()
      throw unknown(label, [
        `PMU ${pmu} has no format term or event alias ${JSON.stringify(key)} (looked in ${dir}/format and ${dir}/events; formats: ${formats.join(', ') || 'none'}; events: ${events.join(', ') || 'none'})`,
      ], LOOKUP_HINTS.pmuEvents(near ? `${near} ` : '', pmu))
    }
  }
  apply(terms, 0)
  return { type: 'dynamic', pmu: type, ...fields }
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

function didYouMean(name: string): string | undefined {
  const close = closestEventNames(name)
  return close.length ? `Did you mean ${close.map((n) => `'${n}'`).join(' or ')}? All names: perf-event-open list (the CLI), listEvents() or knownEventNames().` : undefined
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[] | Set<T>, name: string): T {
  const list = [...allowed]
  if (typeof value !== 'string' || !list.includes(value as T)) throw typeError(`one of ${list.map((v) => `'${v}'`).join(', ')}`, name, value)
  return value as T
}

/** Validates a typed event object and converts it for native code. */
function resolveSpec(spec: EventSpec): ResolvedEvent {
  if (spec === null || typeof spec !== 'object') throw typeError('an event string or an event object', 'event', spec)
  const s = spec as Record<string, unknown>
  const t = s.type
  let native: NativeEvent
  switch (t) {
    case 'hardware':
      native = { type: t, name: oneOf(s.name, HARDWARE_NAMES, 'event.name') }
      break
    case 'software':
      native = { type: t, name: oneOf(s.name, SOFTWARE_NAMES, 'event.name') }
      break
    case 'hwCache':
      native = {
        type: t,
        cache: oneOf(s.cache, CACHE_NAMES, 'event.cache'),
        op: oneOf(s.op, CACHE_OPS, 'event.op'),
        result: oneOf(s.result, CACHE_RESULTS, 'event.result'),
      }
      break
    case 'raw':
      native = { type: t, config: toU64(s.config, 'event.config'), config1: optU64(s.config1, 'event.config1'), config2: optU64(s.config2, 'event.config2'), config3: optU64(s.config3, 'event.config3') }
      break
    case 'tracepoint':
      native = { type: t, id: toU64(s.id, 'event.id') }
      break
    case 'breakpoint': {
      const access = oneOf(s.access, ['r', 'w', 'rw', 'x'], 'event.access')
      if (s.len !== undefined && (!Number.isInteger(s.len) || (s.len as number) < 1 || (s.len as number) > 8)) throw rangeError('an integer from 1 to 8', 'event.len', s.len)
      native = { type: t, access, addr: toU64(s.addr, 'event.addr'), len: s.len as number | undefined }
      break
    }
    case 'dynamic': {
      let pmu: number
      if (typeof s.pmu === 'string') pmu = pmuType(s.pmu)
      else if (typeof s.pmu === 'number' && Number.isInteger(s.pmu) && s.pmu >= 0 && s.pmu <= 0xffffffff) pmu = s.pmu
      else throw typeError('a PMU name or type number', 'event.pmu', s.pmu)
      native = { type: t, pmu, config: toU64(s.config, 'event.config'), config1: optU64(s.config1, 'event.config1'), config2: optU64(s.config2, 'event.config2'), config3: optU64(s.config3, 'event.config3') }
      break
    }
    case 'kprobe': {
      probePmu(t)
      if (s.ret !== undefined && typeof s.ret !== 'boolean') throw typeError('a boolean', 'event.ret', s.ret)
      if ((s.symbol === undefined) === (s.addr === undefined)) throw new TypeError('Expected exactly one of symbol or addr for a kprobe event')
      if (s.symbol !== undefined && (typeof s.symbol !== 'string' || !s.symbol)) throw typeError('a non-empty string', 'event.symbol', s.symbol)
      native = s.symbol !== undefined
        ? { type: t, symbol: s.symbol as string, offset: optU64(s.offset, 'event.offset'), ret: s.ret as boolean | undefined }
        : { type: t, addr: toU64(s.addr, 'event.addr'), ret: s.ret as boolean | undefined }
      break
    }
    case 'uprobe':
      probePmu(t)
      if (typeof s.path !== 'string' || !s.path) throw typeError('a non-empty path string', 'event.path', s.path)
      if (s.ret !== undefined && typeof s.ret !== 'boolean') throw typeError('a boolean', 'event.ret', s.ret)
      native = { type: t, path: s.path, offset: toU64(s.offset, 'event.offset'), ret: s.ret as boolean | undefined }
      break
    default:
      throw typeError("an event type of 'hardware', 'hwCache', 'software', 'raw', 'tracepoint', 'breakpoint', 'dynamic', 'kprobe' or 'uprobe'", 'event.type', t)
  }
  const label = describeNative(native)
  return named(native, label, label)
}

/** Probes need their PMU; without it the crate's sysfs lookup fails inside the syscall with a bare ENOENT. */
function probePmu(pmu: 'kprobe' | 'uprobe') {
  if (pmuTypeText(pmu) !== undefined) return
  throw new PerfEventError(`No ${pmu} PMU: ${PMU_ROOT}/${pmu} is missing (present: ${pmuNames().join(', ') || 'none'}) (ENOENT)`, 'ENOENT', {
    errno: 2,
    syscall: 'lookup',
    hint: pmuMissingHint(pmu),
  })
}

function describeNative(e: NativeEvent): string {
  switch (e.type) {
    case 'hardware':
    case 'software':
      return e.name
    case 'hwCache':
      return `${e.cache}-${e.op}-${e.result}`
    case 'tracepoint':
      return `tracepoint ${e.id}`
    case 'breakpoint':
      return `mem:0x${e.addr.toString(16)}:${e.access}`
    case 'kprobe':
      return `${e.ret ? 'kretprobe' : 'kprobe'}:${e.symbol ?? `0x${e.addr?.toString(16)}`}`
    case 'uprobe':
      return `${e.ret ? 'uretprobe' : 'uprobe'}:${e.path}+0x${e.offset.toString(16)}`
    case 'raw':
      return `r${e.config.toString(16)}`
    case 'dynamic':
      return `pmu ${e.pmu} config 0x${e.config.toString(16)}`
  }
}

function named(native: NativeEvent, label: string, base: string, mods: Pick<ResolvedEvent, 'exclude' | 'skid'> = {}): ResolvedEvent {
  return { native, label, name: perfName(native, base), ...mods }
}

const reverse = <V>(entries: readonly (readonly [string, V])[]) => new Map<V, string>(entries.map(([k, v]) => [v, k] as const).reverse())
const HARDWARE_NAME = reverse<HardwareEventName>(HARDWARE_ENTRIES)
const SOFTWARE_NAME = reverse<SoftwareEventName>(SOFTWARE_ENTRIES)
const CACHE_NAME = reverse<CacheName>(CACHE_ENTRIES)
const CACHE_OP_NAME: Record<CacheOp, [string, string]> = { read: ['load', 'loads'], write: ['store', 'stores'], prefetch: ['prefetch', 'prefetches'] }
/** `PERF_COUNT_SW_*` by config number (`software/config=N/` is the same event as its name). */
const SOFTWARE_BY_CONFIG: readonly SoftwareEventName[] = [
  'cpuClock', 'taskClock', 'pageFault', 'ctxSwitch', 'cpuMigration', 'minorPageFault', 'majorPageFault', 'alignFault', 'emuFault', 'dummy', 'bpfOutput', 'cgroupSwitch',
]
const PERF_TYPE_SOFTWARE = 1

/** The software event a native event counts: `{ type: 'software' }`, or the `software` PMU by config number. */
function softwareOf(e: NativeEvent): SoftwareEventName | undefined {
  if (e.type === 'software') return e.name
  const d = e as { type: string; pmu?: number | string; config?: bigint | number; config1?: unknown; config2?: unknown; config3?: unknown }
  if (d.type !== 'dynamic' || (d.pmu !== PERF_TYPE_SOFTWARE && d.pmu !== 'software') || d.config === undefined) return undefined
  const config = BigInt(d.config)
  return config >= 0n && config < BigInt(SOFTWARE_BY_CONFIG.length) ? SOFTWARE_BY_CONFIG[Number(config)] : undefined
}

/** perf's name of a native event (`base`, the string without modifiers, where perf has no fixed name). */
function perfName(e: NativeEvent, base: string): string {
  const sw = softwareOf(e)
  if (sw !== undefined) return SOFTWARE_NAME.get(sw)!
  if (e.type === 'hardware') return HARDWARE_NAME.get(e.name)!
  if (e.type === 'hwCache') {
    const [op, ops] = CACHE_OP_NAME[e.op]
    return `${CACHE_NAME.get(e.cache)}-${e.result === 'miss' ? `${op}-misses` : ops}`
  }
  return base
}

/**
 * Whether an event is a clock (cpu-clock or task-clock, by name or as `software/config=0|1/`): it
 * counts nanoseconds, and runs on an hrtimer, so the kernel turns `sampleOn: { freq }` into a fixed
 * period (1e9 / freq ns) when the event opens.
 */
export function isClockEvent(native: NativeEvent): boolean {
  const sw = softwareOf(native)
  return sw === 'cpuClock' || sw === 'taskClock'
}

/** What an event's count is in: `'ns'` for the clocks (see `isClockEvent`), `'events'` for every other event. */
export type CountUnit = 'ns' | 'events'

/** The unit of an event's count (`'ns'` for cpu-clock/task-clock in any spelling, else `'events'`). */
export function unitOf(event: ResolvedEvent | NativeEvent): CountUnit {
  return isClockEvent('native' in event ? event.native : event) ? 'ns' : 'events'
}

/** Parses a string or validates an object. */
export function resolveEvent(event: EventInput): ResolvedEvent {
  if (typeof event === 'string') return parseEvent(event)
  return resolveSpec(event)
}
