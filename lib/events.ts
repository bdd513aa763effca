import { readFileSync, readdirSync, existsSync } from 'node:fs'
import type { NativeEvent } from '../index'
import { PerfEventError, rangeError, typeError } from './errors'
import type { Exclude } from './options'

/** Generic hardware events (`PERF_TYPE_HARDWARE`). Need a hardware PMU. */
export type HardwareEventName =
  | 'cpuCycle'
  | 'instr'
  | 'cacheAccess'
  | 'cacheMiss'
  | 'branchInstr'
  | 'branchMiss'
  | 'busCycle'
  | 'frontendStalledCycle'
  | 'backendStalledCycle'
  | 'refCpuCycle'

/** Software events (`PERF_TYPE_SOFTWARE`), always available. `cgroupSwitch` since Linux 5.13, `bpfOutput` since 4.4. */
export type SoftwareEventName =
  | 'cpuClock'
  | 'taskClock'
  | 'pageFault'
  | 'minorPageFault'
  | 'majorPageFault'
  | 'emuFault'
  | 'alignFault'
  | 'ctxSwitch'
  | 'cgroupSwitch'
  | 'dummy'
  | 'bpfOutput'
  | 'cpuMigration'

export type CacheName = 'l1d' | 'l1i' | 'll' | 'dtlb' | 'itlb' | 'bpu' | 'node'
export type CacheOp = 'read' | 'write' | 'prefetch'
export type CacheResult = 'access' | 'miss'
/** A u64 value: a bigint, or a non-negative safe integer. */
export type U64 = bigint | number

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

/** What `new Counter(event)` accepts: an event string (see README: event grammar) or a typed object. */
export type EventInput = string | EventSpec


/** An event ready for native code, with what its string's modifiers asked for. */
export interface ResolvedEvent {
  native: NativeEvent
  /** Human label: the string given, or a short description of the object. */
  label: string
  /** Privilege-level exclusions implied by modifiers such as `:u`. */
  exclude?: Exclude
  skid?: 'arbitrary' | 'const' | 'reqZero' | 'zero'
}

const HARDWARE: Record<string, HardwareEventName> = {
  cycles: 'cpuCycle',
  'cpu-cycles': 'cpuCycle',
  instructions: 'instr',
  'cache-references': 'cacheAccess',
  'cache-misses': 'cacheMiss',
  branches: 'branchInstr',
  'branch-instructions': 'branchInstr',
  'branch-misses': 'branchMiss',
  'bus-cycles': 'busCycle',
  'stalled-cycles-frontend': 'frontendStalledCycle',
  'idle-cycles-frontend': 'frontendStalledCycle',
  'stalled-cycles-backend': 'backendStalledCycle',
  'idle-cycles-backend': 'backendStalledCycle',
  'ref-cycles': 'refCpuCycle',
}

const SOFTWARE: Record<string, SoftwareEventName> = {
  'cpu-clock': 'cpuClock',
  'task-clock': 'taskClock',
  'page-faults': 'pageFault',
  faults: 'pageFault',
  'minor-faults': 'minorPageFault',
  'major-faults': 'majorPageFault',
  'emulation-faults': 'emuFault',
  'alignment-faults': 'alignFault',
  'context-switches': 'ctxSwitch',
  cs: 'ctxSwitch',
  'cgroup-switches': 'cgroupSwitch',
  dummy: 'dummy',
  'bpf-output': 'bpfOutput',
  'cpu-migrations': 'cpuMigration',
  migrations: 'cpuMigration',
}

const CACHE: Record<string, CacheName> = {
  'l1-dcache': 'l1d',
  'l1-icache': 'l1i',
  llc: 'll',
  dtlb: 'dtlb',
  itlb: 'itlb',
  branch: 'bpu',
  node: 'node',
}
const CACHE_OP: Record<string, CacheOp> = {
  load: 'read',
  loads: 'read',
  read: 'read',
  store: 'write',
  stores: 'write',
  write: 'write',
  prefetch: 'prefetch',
  prefetches: 'prefetch',
}
const CACHE_RESULT: Record<string, CacheResult> = {
  miss: 'miss',
  misses: 'miss',
  access: 'access',
  accesses: 'access',
  refs: 'access',
  references: 'access',
}

const HARDWARE_NAMES = new Set(Object.values(HARDWARE))
const SOFTWARE_NAMES = new Set(Object.values(SOFTWARE))

/** Where tracefs may be mounted, in the order looked at. */
export const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']
/** Where dynamic PMUs are listed. */
export const PMU_ROOT = '/sys/bus/event_source/devices'

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

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

/** Checks and converts a u64 field of a typed event. */
export function toU64(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n) throw rangeError('a bigint in [0, 2^64)', name, value)
    return value
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw rangeError('a non-negative safe integer or a bigint', name, value)
    return BigInt(value)
  }
  throw typeError('a bigint or a non-negative integer', name, value)
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
  const mounted = TRACEFS_ROOTS.some((r) => existsSync(`${r}/events`))
  throw unknown(label, [`no tracepoint ${sys}:${name} (looked for ${looked.join(' and ')})`],
    mounted
      ? `List tracepoints with: ls ${TRACEFS_ROOTS[0]}/events/${sys}/ (or perf list tracepoint).`
      : `tracefs is not mounted (or not readable): as root, mount -t tracefs nodev ${TRACEFS_ROOTS[0]}`)
}

/** Reads a PMU's type number. */
export function pmuType(pmu: string, label = pmu): number {
  const type = read(`${PMU_ROOT}/${pmu}/type`)
  if (type === undefined) {
    let present: string[] = []
    try {
      present = readdirSync(PMU_ROOT)
    } catch {}
    throw unknown(label, [`no PMU ${JSON.stringify(pmu)} in ${PMU_ROOT} (present: ${present.join(', ') || 'none'})`])
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
  const fields: Record<ConfigField, bigint> = { config: 0n, config1: 0n, config2: 0n, config3: 0n }
  const dir = `${PMU_ROOT}/${pmu}`
  const apply = (list: string, depth: number) => {
    for (const raw of list.split(',').map((t) => t.trim()).filter(Boolean)) {
      const eq = raw.indexOf('=')
      const key = eq < 0 ? raw : raw.slice(0, eq)
      const value = eq < 0 ? 1n : parseU64(raw.slice(eq + 1), `term ${key} of ${JSON.stringify(label)}`)
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
      let formats: string[] = []
      let events: string[] = []
      try {
        formats = readdirSync(`${dir}/format`)
      } catch {}
      try {
        events = readdirSync(`${dir}/events`).filter((e) => !e.includes('.'))
      } catch {}
      throw unknown(label, [
        `PMU ${pmu} has no format term or event alias ${JSON.stringify(key)} (looked in ${dir}/format and ${dir}/events; formats: ${formats.join(', ') || 'none'}; events: ${events.join(', ') || 'none'})`,
      ])
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
  const s = text.trim()
  if (!s) throw new TypeError('Expected an event name but received an empty string')
  // pmu/terms/modifiers
  const pmu = /^([A-Za-z0-9_.-]+)\/([^/]*)\/([A-Za-z]*)$/.exec(s)
  if (pmu) return { native: parsePmuEvent(pmu[1], pmu[2], label), label, ...modifiers(pmu[3], label) }
  if (/^mem:/i.test(s)) return { native: parseBreakpoint(s, label), label }
  const parts = s.split(':')
  // name[:modifiers]
  const base = parts[0]
  const mods = parts.length === 2 && /^[ukhHGIp]+$/.test(parts[1]) ? parts[1] : parts.length === 1 ? '' : undefined
  if (mods !== undefined) {
    const lower = base.toLowerCase()
    const hw = HARDWARE[lower]
    if (hw) return { native: { type: 'hardware', name: hw }, label, ...modifiers(mods, label) }
    const sw = SOFTWARE[lower]
    if (sw) return { native: { type: 'software', name: sw }, label, ...modifiers(mods, label) }
    const raw = /^r([0-9a-f]+)$/i.exec(base)
    if (raw) return { native: { type: 'raw', config: parseU64(`0x${raw[1]}`, label) }, label, ...modifiers(mods, label) }
    const cache = /^(l1-dcache|l1-icache|llc|dtlb|itlb|branch|node)-([a-z]+)(?:-([a-z]+))?$/.exec(lower)
    if (cache && CACHE_OP[cache[2]] && (cache[3] === undefined || CACHE_RESULT[cache[3]])) {
      return {
        native: { type: 'hwCache', cache: CACHE[cache[1]], op: CACHE_OP[cache[2]], result: cache[3] ? CACHE_RESULT[cache[3]] : 'access' },
        label,
        ...modifiers(mods, label),
      }
    }
  }
  // subsystem:tracepoint[:modifiers]
  if ((parts.length === 2 || parts.length === 3) && /^[A-Za-z0-9_.-]+$/.test(parts[0]) && /^[A-Za-z0-9_.-]+$/.test(parts[1])) {
    return { native: { type: 'tracepoint', id: tracepointId(parts[0], parts[1], label) }, label, ...modifiers(parts[2] ?? '', label) }
  }
  throw unknown(label, [
    'not a hardware, software or cache event name (see README: event grammar)',
    'not a raw event (rHEX)',
    'not a tracepoint (subsystem:name)',
    `not a PMU event (pmu/terms/, PMUs in ${PMU_ROOT})`,
    'not a breakpoint (mem:ADDR[/LEN][:rwx])',
  ])
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[] | Set<T>, name: string): T {
  const list = [...allowed]
  if (typeof value !== 'string' || !list.includes(value as T)) throw typeError(`one of ${list.map((v) => `'${v}'`).join(', ')}`, name, value)
  return value as T
}

/** Validates a typed event object and converts it for native code. */
export function resolveSpec(spec: EventSpec): ResolvedEvent {
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
        cache: oneOf(s.cache, ['l1d', 'l1i', 'll', 'dtlb', 'itlb', 'bpu', 'node'], 'event.cache'),
        op: oneOf(s.op, ['read', 'write', 'prefetch'], 'event.op'),
        result: oneOf(s.result, ['access', 'miss'], 'event.result'),
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
      if (s.ret !== undefined && typeof s.ret !== 'boolean') throw typeError('a boolean', 'event.ret', s.ret)
      if ((s.symbol === undefined) === (s.addr === undefined)) throw new TypeError('Expected exactly one of symbol or addr for a kprobe event')
      if (s.symbol !== undefined && (typeof s.symbol !== 'string' || !s.symbol)) throw typeError('a non-empty string', 'event.symbol', s.symbol)
      native = s.symbol !== undefined
        ? { type: t, symbol: s.symbol as string, offset: optU64(s.offset, 'event.offset'), ret: s.ret as boolean | undefined }
        : { type: t, addr: toU64(s.addr, 'event.addr'), ret: s.ret as boolean | undefined }
      break
    }
    case 'uprobe':
      if (typeof s.path !== 'string' || !s.path) throw typeError('a non-empty path string', 'event.path', s.path)
      if (s.ret !== undefined && typeof s.ret !== 'boolean') throw typeError('a boolean', 'event.ret', s.ret)
      native = { type: t, path: s.path, offset: toU64(s.offset, 'event.offset'), ret: s.ret as boolean | undefined }
      break
    default:
      throw typeError("an event type of 'hardware', 'hwCache', 'software', 'raw', 'tracepoint', 'breakpoint', 'dynamic', 'kprobe' or 'uprobe'", 'event.type', t)
  }
  return { native, label: describeNative(native) }
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

/** Parses a string or validates an object. */
export function resolveEvent(event: EventInput): ResolvedEvent {
  if (typeof event === 'string') return parseEvent(event)
  return resolveSpec(event)
}

/** perf's spelling of the generic cache names (the parser takes any case). */
const CACHE_PERF_NAMES = ['L1-dcache', 'L1-icache', 'LLC', 'dTLB', 'iTLB', 'branch', 'node']

/**
 * Every hardware, software and generic cache event name the event strings accept, spelled as
 * `perf list` spells them (aliases included, e.g. both `cycles` and `cpu-cycles`).
 */
export function knownEventNames(): { hardware: string[]; software: string[]; cache: string[] } {
  const cache: string[] = []
  for (const c of CACHE_PERF_NAMES) {
    for (const op of ['load', 'store', 'prefetch']) {
      cache.push(`${c}-${op === 'prefetch' ? 'prefetches' : `${op}s`}`, `${c}-${op}-misses`)
    }
  }
  return { hardware: Object.keys(HARDWARE), software: Object.keys(SOFTWARE), cache }
}
