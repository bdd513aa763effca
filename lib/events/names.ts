/** The perf-style names of the generic events (hardware, software, hardware cache), both ways: perf's
 * names → the crate's, and a native event → perf's name. */

import type { CacheName, CacheOp, CacheResult, HardwareEventName, NativeEvent, SoftwareEventName } from '../../index'

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
export const HARDWARE = lowerMap<HardwareEventName>(HARDWARE_ENTRIES)
export const SOFTWARE = lowerMap<SoftwareEventName>(SOFTWARE_ENTRIES)
export const CACHE = lowerMap<CacheName>(CACHE_ENTRIES)
export const CACHE_OP = lowerMap<CacheOp>(CACHE_OP_ENTRIES)
export const CACHE_RESULT = lowerMap<CacheResult>(CACHE_RESULT_ENTRIES)

export const HARDWARE_NAMES = new Set<HardwareEventName>(HARDWARE.values())
export const SOFTWARE_NAMES = new Set<SoftwareEventName>(SOFTWARE.values())
export const CACHE_NAMES = new Set<CacheName>(CACHE.values())
export const CACHE_OPS = new Set<CacheOp>(CACHE_OP.values())
export const CACHE_RESULTS = new Set<CacheResult>(CACHE_RESULT.values())

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
export function perfName(e: NativeEvent, base: string): string {
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
