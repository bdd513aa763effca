// Compiled with `tsc --noEmit` (npm run typecheck): the facade's option types and its validation
// table have exactly the fields of the native option structs (src/options/ → index.d.ts), both
// directions. An option added on one side only fails here with its path in the error.
import type { NativeOpts } from '../../index.js'
import type { CounterOptions, MemberOptions } from '../../dist/index.js'
import type { OPTIONS_SCHEMA } from '../../dist/events/options.js'
import { Counter } from '../../dist/index.js'

/** Every dotted path of an options type, e.g. `sampleFormat.callChain.maxStackFrames`. */
type Paths<T> = T extends unknown
  ? { [K in keyof T & string]-?: NonNullable<T[K]> extends bigint | string | number | boolean ? K : K | `${K}.${Paths<NonNullable<T[K]>>}` }[keyof T & string]
  : never
/** Every dotted path of a validation table (`{ object }` and `{ oneOf }` rules nest). */
type SchemaPaths<S> = {
  [K in keyof S & string]-?: S[K] extends { object: infer O } | { oneOf: infer O } ? K | `${K}.${SchemaPaths<O>}` : K
}[keyof S & string]

/** Compiles only when `T` is `never`; the error shows the paths that are on one side only. */
function none<T extends never>(): T | void {}

type Native = Paths<NativeOpts>
/** `statFormat.siblings` is set by CounterGroup, not an option users pass. */
type NotPublic = 'statFormat.siblings'
type Public = Paths<CounterOptions> | Paths<MemberOptions>
type Table = SchemaPaths<typeof OPTIONS_SCHEMA>

none<Exclude<Public, Native>>() // a public option the native struct lacks (napi would drop it silently)
none<Exclude<Native, Public | NotPublic>>() // a native field no public type offers
none<Exclude<Table, Native>>() // a validated field the native struct lacks
none<Exclude<Native, Table>>() // a native field nothing validates

// Exclusive choices: one of them, never both (issue 10 item 4).
new Counter('cpu-clock', {}, { sampleOn: { freq: 1000 } })
new Counter('cpu-clock', {}, { sampleOn: { count: 10_000n } })
new Counter('cpu-clock', {}, { wakeUp: { on: { samples: 1 } } })
new Counter('cpu-clock', {}, { wakeUp: { on: { bytes: 4096 }, onAuxBytes: 0 } })
// @ts-expect-error sampleOn takes freq or count, not both
new Counter('cpu-clock', {}, { sampleOn: { freq: 1, count: 2 } })
// @ts-expect-error wakeUp.on takes samples or bytes, not both
new Counter('cpu-clock', {}, { wakeUp: { on: { samples: 1, bytes: 2 } } })
// @ts-expect-error sampleOn needs one of them
new Counter('cpu-clock', {}, { sampleOn: {} })

// String options take the native enums' values only.
new Counter('task-clock', {}, { inherit: 'newThread', onExecve: 'remove', sampleSkid: 'reqZero', timer: 'monotonicRaw', sampleFormat: { weight: 'vars' } })
// @ts-expect-error unknown inherit value
new Counter('task-clock', {}, { inherit: 'newProcess' })
// @ts-expect-error unknown clock
new Counter('task-clock', {}, { timer: 'realtime' })
// @ts-expect-error siblings is not an option
new Counter('task-clock', {}, { statFormat: { siblings: true } })

// A group member takes no inherit (the kernel refuses group reads of inherited counters).
declare const group: import('../../dist/index.js').CounterGroup
// @ts-expect-error inherit is not a member option
group.add('cs', { inherit: 'newChild' })
group.add('cs', { exclude: { kernel: true } })
