// Event-name types (issue 10 item 4, issue 11): the names come from src/event.rs (#[napi(string_enum)])
// through the generated index.d.ts; event strings complete known names and still accept any string.
import { Counter, knownEventNames, type CacheName, type CacheOp, type CacheResult, type EventInput, type HardwareEventName, type KnownEventName, type SoftwareEventName } from '../../dist/index.js'

const known: KnownEventName[] = ['task-clock', 'cycles', 'context-switches', 'L1-dcache-load-misses', 'LLC-stores', 'dTLB-prefetches']
// @ts-expect-error a misspelt name is not a known name (no completion would offer it)
const misspelt: KnownEventName = 'task-clok'
void [known, misspelt]

// Any other string is still an event: tracepoints, PMU events, modifiers, raw events.
const inputs: EventInput[] = ['sched:sched_switch', 'msr/tsc/', 'task-clock:u', 'r003c', 'task-clok']
new Counter('cpu-clock')
void inputs

// The string part of EventInput keeps the literal union (what editors complete).
type StringPart = Extract<EventInput, string>
const keepsLiterals: [KnownEventName] extends [StringPart] ? (string extends KnownEventName ? false : true) : false = true
void keepsLiterals

const hw: HardwareEventName = 'cpuCycle'
const sw: SoftwareEventName = 'taskClock'
const cache: [CacheName, CacheOp, CacheResult] = ['l1d', 'read', 'miss']
// @ts-expect-error perf's name is not the crate's name
const wrong: HardwareEventName = 'cycles'
// @ts-expect-error 'l1D' was the camelCase slip the string_enum value fixes
const slip: CacheName = 'l1D'
void [hw, sw, cache, wrong, slip]

const names: { hardware: string[]; software: string[]; cache: string[] } = knownEventNames()
void names
