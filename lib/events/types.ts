/** The event types: what users pass (`EventInput`, `EventSpec`) and what native code gets (`ResolvedEvent`). */

import type { CacheName, CacheOp, CacheResult, HardwareEventName, NativeEvent, SoftwareEventName } from '../../index'
import type { NativePriv as Exclude } from '../../index'
import type { U64 } from './check'
import type { KnownEventName } from './names'

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
