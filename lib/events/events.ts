/**
 * Events: a string or a typed object → a `ResolvedEvent` for native code, and the unit of its count.
 * The entry point of lib/events/; the parts live beside it: types.ts (the event types), names.ts
 * (generic event names), parse.ts (event strings), spec.ts (typed objects), pmu.ts (dynamic PMUs and
 * probes), tracepoint.ts (tracepoints), unknown.ts (unknown events and did-you-mean).
 */

import type { CacheName, CacheOp, CacheResult, HardwareEventName, NativeEvent, SoftwareEventName } from '../../index'
import type { U64 } from './check'
import { isClockEvent } from './names'
import { parseEvent } from './parse'
import { resolveSpec } from './spec'
import type { EventInput, ResolvedEvent } from './types'

// The names are written once, in src/event.rs (`#[napi(string_enum)]`): these types come from the generated index.d.ts.
export type { HardwareEventName, SoftwareEventName, CacheName, CacheOp, CacheResult }
export type { U64 }
export type { EventInput, EventSpec, ResolvedEvent } from './types'
export { isClockEvent, knownEventNames, type KnownEventName } from './names'
export { closestEventNames, closestNames } from './unknown'
export { MAX_EVENT_LENGTH, parseEvent } from './parse'

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
