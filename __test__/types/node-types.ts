// Compiled by `npm run typecheck` with tsconfig.node-types.json: no `types` of its own and
// skipLibCheck false, as in a user's project that never names Node's types. The published
// typings must bring them in (`/// <reference types="node" />` in dist/index.d.ts; `@types/node`
// is an optional peer dependency), so Buffer and AbortSignal resolve and nothing degrades to any.
import { Counter, type RecordOf } from '../../dist/index.js'

type IsAny<T> = 0 extends 1 & T ? true : false

type Stack = NonNullable<RecordOf<'sample'>['userStack']>
const stackIsNotAny: IsAny<Stack> = false
const stackIsBuffer: Stack extends Buffer ? true : false = true
// @ts-expect-error userStack is a Buffer, not a string
const notAString: string = undefined as unknown as Stack

const sampler = new Counter('cpu-clock', undefined, { sampleOn: { count: 100_000 } }).sampler(2)
type Signal = NonNullable<NonNullable<Parameters<typeof sampler.records>[0]>['signal']>
const signalIsNotAny: IsAny<Signal> = false
const signal: Signal = new AbortController().signal

void [stackIsNotAny, stackIsBuffer, notAString, signalIsNotAny, signal]
