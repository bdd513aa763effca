import type {
  NativeCallChain,
  NativeExtraRecord,
  NativeLbr,
  NativeOpts,
  NativePriv,
  NativeRecordIdFormat,
  NativeSampleFormat,
  NativeSampleOn,
  NativeStatFormat,
  NativeTarget,
  NativeWakeUp,
  NativeWakeUpOn,
} from '../../index'
import { rangeError, toU64, typeError, type U64 } from './check'
import type { ResolvedEvent } from './events'

// ---------------------------------------------------------------------------
// Option types: derived from the native option structs of src/options/ (their
// field names and docs, "Since Linux X.Y" included, come from there through
// index.d.ts), so an option cannot exist on one side only.

/** How the facade takes a native field: u64 as `number | bigint`, nested objects likewise. */
type Input<T> = [T] extends [bigint] ? U64 : [T] extends [string | number | boolean] ? T : OptionsOf<T>

/** A native option struct as the facade takes it; `Special` replaces the fields the facade takes differently. */
export type OptionsOf<N, Special = object> = {
  [K in keyof N]?: K extends keyof Special ? Special[K] : Input<NonNullable<N[K]>>
}

/** Exactly one field of `N` (the others `?: never`, so giving two does not type-check). */
type OneOf<N> = { [K in keyof N]-?: { [P in K]-?: Input<NonNullable<N[P]>> } & { [P in keyof N as P extends K ? never : P]?: never } }[keyof N]

/** Which privilege levels NOT to count. Event-string modifiers (`:u`, `:k`…) fill these; explicit options win. */
export type Exclude = OptionsOf<NativePriv>
/**
 * Which values `stat()` reads. `id`, `timeEnabled` and `timeRunning` are always read (so `Stat` has
 * them, and `scaled`/`multiplexed`/`neverRan` always mean something): only `true` is accepted for them;
 * only `lostRecords` is optional.
 */
export type StatFormat = OptionsOf<Omit<NativeStatFormat, 'siblings'>, { id: true; timeEnabled: true; timeRunning: true }>
/** Sample on every `count` events (a period) or `freq` times a second (the kernel adjusts the period): one of them. */
export type SampleOn = OneOf<NativeSampleOn>
/** Call chain options of samples. */
export type CallChainOptions = OptionsOf<NativeCallChain>
/** Branch stack (LBR) sampling options. Needs hardware support (Intel LBR, AMD BRS, Arm BRBE). */
export type LbrOptions = OptionsOf<NativeLbr>
/** What each sample record carries (PERF_SAMPLE_*). */
export type SampleFormat = OptionsOf<NativeSampleFormat>
/** Extra (non-sample) records to generate into the sampler's ring. */
export type ExtraRecord = OptionsOf<NativeExtraRecord>
/** Which identity fields every record carries (PERF_SAMPLE_ID, STREAM_ID, CPU, TID, TIME). */
export type RecordIdFormat = OptionsOf<NativeRecordIdFormat>
/** When a waiting sampler is woken. */
export type WakeUp = OptionsOf<NativeWakeUp, { on: OneOf<NativeWakeUpOn> }>

/** Fields of `NativeOpts` that only a counter or group leader takes. */
export type LeaderOnly = 'exclusive' | 'pin' | 'timer' | 'pauseAux'
/** Fields of `NativeOpts` that only a group member takes. */
export type MemberOnly = 'auxOutput' | 'auxAction'
type AllOptions = OptionsOf<NativeOpts, { statFormat: StatFormat; sampleOn: SampleOn; wakeUp: WakeUp }>

/** Options shared by counters and group members, mirroring the crate's `Opts` in camelCase. */
export type CommonOptions = Omit<AllOptions, LeaderOnly | MemberOnly>
/** Options of a counter or a group leader. */
export type CounterOptions = Omit<AllOptions, MemberOnly>
/** Options of a group member (sibling): no `inherit` (the kernel refuses group reads of inherited counters). */
export type MemberOptions = Omit<AllOptions, LeaderOnly | 'inherit'>

/**
 * What to count. Default `{ pid: 0, cpu: 'all' }`: the calling thread on any CPU.
 * In Node.js the calling thread is the JS thread (main or worker): libuv pool
 * and V8 helper threads are not counted. Use `inherit` before threads start,
 * one counter per `/proc/self/task/*`, or CPU-wide counters for the whole process.
 */
export interface Target {
  /** Thread or process id, `0` for the calling thread, or `'all'` (then `cpu` must be a number; needs privilege). */
  pid?: number | 'all'
  /** CPU number, or `'all'` (then `pid` must be a thread/process). */
  cpu?: number | 'all'
  /** cgroup directory path (cgroupfs v2, e.g. `/sys/fs/cgroup/my.slice`); needs a `cpu` number and privilege. */
  cgroup?: string
}

// ---------------------------------------------------------------------------
// Validation: one table per options object; every error names the field.

/** A Linux version such as `'5.13'`: the perf ABI that added an option (see lib/events/since.ts). */
export type Since = `${number}.${number}`

/**
 * How one option field is checked, and since which Linux it exists when that is newer than the oldest
 * variant: a boolean with `{ bool: since }` needs it when true, an integer with `since` when above 0, a
 * string value mapped to a version needs that version.
 */
export type Rule =
  | 'bool'
  | { readonly bool: Since }
  | 'true'
  | 'u64'
  | { readonly uint: number; readonly since?: Since }
  | { readonly values: { readonly [value: string]: true | Since } }
  | { readonly object: Schema }
  | { readonly oneOf: Schema }

export type Schema = { readonly [key: string]: Rule }

/**
 * The rule a native field of type `T` needs. `satisfies SchemaOf<NativeX>` makes a table list every
 * field of `NativeX` with a rule of the right kind, and every value of a string enum, no more (compile
 * errors otherwise); `__test__/types/options.ts` checks that no table has a field the native struct lacks.
 */
type RuleFor<T> = [T] extends [boolean]
  ? 'bool' | { readonly bool: Since } | 'true'
  : [T] extends [bigint]
    ? 'u64'
    : [T] extends [number]
      ? { readonly uint: number; readonly since?: Since }
      : [T] extends [string]
        ? { readonly values: { readonly [V in T]: true | Since } }
        : { readonly object: SchemaOf<T> } | { readonly oneOf: SchemaOf<T> }
type SchemaOf<N> = { readonly [K in keyof N]-?: RuleFor<NonNullable<N[K]>> }

/** What `checkObject` returns for a schema: u64 as bigint, enum values as their literal types. */
type Checked<S> = { -readonly [K in keyof S]?: CheckedRule<S[K]> }
type CheckedRule<R> = R extends 'bool' | 'true' | { bool: Since }
  ? boolean
  : R extends 'u64'
    ? bigint
    : R extends { uint: number }
      ? number
      : R extends { values: infer V }
        ? keyof V & string
        : R extends { object: infer O }
          ? Checked<O>
          : R extends { oneOf: infer O }
            ? Checked<O>
            : never

const U32 = { uint: 0xffffffff } as const
function bools<const K extends string>(...keys: K[]): { readonly [P in K]: 'bool' } {
  return Object.fromEntries(keys.map((k) => [k, 'bool'])) as { [P in K]: 'bool' }
}

// Field docs, "Since Linux X.Y" and permissions are in src/options/; `since` here is the same
// version as data (checked against those docs by __test__/since.spec.ts).
const SAMPLE_FORMAT = {
  ...bools('stat', 'period', 'dataAddr', 'dataSource', 'codeAddr', 'raw', 'txn'),
  cgroup: { bool: '5.7' },
  dataPhysAddr: { bool: '4.14' },
  dataPageSize: { bool: '5.11' },
  codePageSize: { bool: '5.11' },
  callChain: {
    object: { ...bools('excludeUser', 'excludeKernel'), deferUser: { bool: '6.19' }, maxStackFrames: { uint: 0xffff, since: '4.8' } },
  },
  userStack: U32,
  userRegs: 'u64',
  intrRegs: 'u64',
  aux: { ...U32, since: '5.5' },
  weight: { values: { full: true, vars: '5.12' } },
  lbr: {
    object: {
      targetPriv: { object: bools('user', 'kernel', 'hv') },
      branchType: {
        object: {
          ...bools('any', 'anyReturn', 'cond', 'indCall', 'anyCall', 'inTx', 'noTx', 'abortTx'),
          indJump: { bool: '4.2' },
          callStack: { bool: '4.1' },
          call: { bool: '4.4' },
        },
      },
      hwIndex: { bool: '5.7' },
      entryFormat: { object: { ...bools('flags', 'cycles'), counter: { bool: '6.8' }, branchType: { bool: '4.14' }, branchPriv: { bool: '6.1' } } },
    },
  },
} as const satisfies SchemaOf<NativeSampleFormat>

/** Validation of every native option field: the only place options are checked (src/options/ only converts). */
export const OPTIONS_SCHEMA = {
  exclude: { object: bools('user', 'kernel', 'hv', 'host', 'guest', 'idle') },
  exclusive: 'bool',
  pin: 'bool',
  inherit: { values: { newChild: true, newThread: '5.13' } },
  onExecve: { values: { enable: true, remove: '5.13' } },
  statFormat: { object: { id: 'true', timeEnabled: 'true', timeRunning: 'true', siblings: 'bool', lostRecords: { bool: '6.0' } } },
  enable: 'bool',
  sampleOn: { oneOf: { freq: 'u64', count: 'u64' } },
  sampleSkid: { values: { arbitrary: true, const: true, reqZero: true, zero: true } },
  sampleFormat: { object: SAMPLE_FORMAT },
  extraRecord: {
    object: {
      ...bools('task', 'read', 'comm'),
      mmap: { object: { ...bools('code', 'data'), ext: { object: { buildId: { bool: '5.12' } } } } },
      cgroup: { bool: '5.7' },
      ksymbol: { bool: '5.1' },
      bpfEvent: { bool: '5.1' },
      textPoke: { bool: '5.9' },
      ctxSwitch: { bool: '4.3' },
      namespaces: { bool: '4.12' },
      callChainDeferred: { bool: '6.19' },
    },
  },
  recordIdAll: 'bool',
  recordIdFormat: { object: bools('id', 'streamId', 'cpu', 'task', 'time') },
  wakeUp: { object: { on: { oneOf: { samples: U32, bytes: U32 } }, onAuxBytes: { ...U32, since: '4.1' } } },
  timer: { values: { tai: '4.1', realTime: '4.1', bootTime: '4.1', monotonic: '4.1', monotonicRaw: '4.1' } },
  pauseAux: { bool: '6.13' },
  auxOutput: { bool: '5.4' },
  auxAction: { values: { pause: '6.13', resume: '6.13' } },
} as const satisfies SchemaOf<NativeOpts>

function without<S extends Schema, K extends keyof S & string>(schema: S, ...keys: readonly K[]): Omit<S, K> {
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !(keys as readonly string[]).includes(k))) as Omit<S, K>
}
const MEMBER_ONLY: readonly MemberOnly[] = ['auxOutput', 'auxAction']
const LEADER_ONLY: readonly LeaderOnly[] = ['exclusive', 'pin', 'timer', 'pauseAux']
/** `siblings` is set by CounterGroup, not taken from users. */
const STAT_FORMAT = { object: without(OPTIONS_SCHEMA.statFormat.object, 'siblings') }
const COUNTER = { ...without(OPTIONS_SCHEMA, ...MEMBER_ONLY), statFormat: STAT_FORMAT }
/** A group's leader and members: no `inherit` (the kernel refuses group reads, PERF_FORMAT_GROUP, of inherited counters). */
const LEADER = without(COUNTER, 'inherit')
const MEMBER = { ...without(OPTIONS_SCHEMA, ...LEADER_ONLY, 'inherit'), statFormat: STAT_FORMAT }
const NO_GROUP_INHERIT: Record<string, string> = {
  inherit:
    'Expected no options.inherit for a CounterGroup or its members: the kernel refuses group reads (PERF_FORMAT_GROUP) of inherited counters. Use separate Counters with inherit instead.',
}

const NOT_OFFERED: Record<string, string> = {
  sigtrapOnSample:
    'sigtrapOnSample is not offered: the kernel sends SIGTRAP to the sampled thread, and Node.js has no SIGTRAP handler, so the default action would kill the process.',
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function check(value: unknown, rule: Rule, path: string): unknown {
  if (rule === 'bool' || (typeof rule === 'object' && 'bool' in rule)) {
    if (typeof value !== 'boolean') throw typeError('a boolean', path, value)
    return value
  }
  if (rule === 'true') {
    if (value !== true) throw typeError('true (id, timeEnabled and timeRunning are always read)', path, value)
    return value
  }
  if (rule === 'u64') return toU64(value, path)
  if ('uint' in rule) {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError('an integer', path, value)
    if (value < 0 || value > rule.uint) throw rangeError(`an integer from 0 to ${rule.uint}`, path, value)
    return value
  }
  if ('values' in rule) {
    const values = Object.keys(rule.values)
    if (typeof value !== 'string' || !values.includes(value)) throw typeError(`one of ${values.map((v) => `'${v}'`).join(', ')}`, path, value)
    return value
  }
  if ('oneOf' in rule) {
    const keys = Object.keys(rule.oneOf)
    if (!isPlainObject(value)) throw typeError(`an object with one of ${keys.join(', ')}`, path, value)
    const given = Object.keys(value).filter((k) => value[k] !== undefined)
    if (given.length !== 1 || !Object.hasOwn(rule.oneOf, given[0])) throw typeError(`an object with exactly one of ${keys.join(', ')}`, path, value)
    return { [given[0]]: check(value[given[0]], rule.oneOf[given[0]], `${path}.${given[0]}`) }
  }
  return checkObject(value, rule.object, path)
}

/** Checks `value` against `schema`; the result has the schema's shape (`Checked<S>`), which the compiler relates to the native types. */
function checkObject<S extends Schema>(value: unknown, schema: S, path: string, refused: Record<string, string> = NOT_OFFERED): Checked<S> {
  if (!isPlainObject(value)) throw typeError('an object', path, value)
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    // Own properties only: 'constructor', 'toString'… must not find Object.prototype members.
    const rule = Object.hasOwn(schema, key) ? schema[key] : undefined
    const at = `${path}.${key}`
    if (!rule) {
      const reason = Object.hasOwn(refused, key) ? refused[key] : Object.hasOwn(NOT_OFFERED, key) ? NOT_OFFERED[key] : undefined
      throw new TypeError(reason ?? `Unknown option ${at}; expected one of: ${Object.keys(schema).join(', ')}`)
    }
    if (v !== undefined) out[key] = check(v, rule, at)
  }
  return out as Checked<S>
}

const DEFAULT_STAT = { id: true, timeEnabled: true, timeRunning: true }

/** Event-string modifiers (`:u`, `:p`…) and the default stat format, under the options given. */
function withModifiers(opts: Checked<typeof COUNTER> | Checked<typeof LEADER> | Checked<typeof MEMBER>, ev: ResolvedEvent): NativeOpts {
  return {
    ...opts,
    exclude: ev.exclude ? { ...ev.exclude, ...opts.exclude } : opts.exclude,
    sampleSkid: opts.sampleSkid ?? ev.skid,
    statFormat: { ...DEFAULT_STAT, ...opts.statFormat },
  }
}

/** Validates counter (or leader) options and fills defaults. */
export function counterOptions(options: unknown, ev: ResolvedEvent): NativeOpts {
  return withModifiers(checkObject(options ?? {}, COUNTER, 'options'), ev)
}

/** Validates group leader options (a counter's, without `inherit`) and fills defaults. */
export function leaderOptions(options: unknown, ev: ResolvedEvent): NativeOpts {
  return withModifiers(checkObject(options ?? {}, LEADER, 'options', NO_GROUP_INHERIT), ev)
}

/**
 * Validates group member options and fills defaults. Members are created enabled
 * (`enable: true`) so that they count whenever the leader does: enabling the
 * leader does not enable a member that was opened disabled.
 */
export function memberOptions(options: unknown, ev: ResolvedEvent): NativeOpts {
  return withModifiers({ enable: true, ...checkObject(options ?? {}, MEMBER, 'options', NO_GROUP_INHERIT) }, ev)
}

/** Validates a target. */
export function resolveTarget(target: unknown): NativeTarget {
  const t = checkTargetShape(target ?? {})
  const pid = t.pid ?? 0
  const cpu = t.cpu ?? 'all'
  if (pid !== 'all' && (!Number.isInteger(pid) || pid < 0 || pid > 0x7fffffff)) throw rangeError("a thread/process id (0 = calling thread) or 'all'", 'target.pid', pid)
  if (cpu !== 'all' && (!Number.isInteger(cpu) || cpu < 0 || cpu > 0x7fffffff)) throw rangeError("a CPU number or 'all'", 'target.cpu', cpu)
  if (t.cgroup !== undefined) {
    if (typeof t.cgroup !== 'string' || !t.cgroup) throw typeError('a cgroup directory path', 'target.cgroup', t.cgroup)
    if (t.pid !== undefined) throw new TypeError('Expected either target.pid or target.cgroup, not both')
    if (cpu === 'all') throw new RangeError('Expected a CPU number for target.cpu with target.cgroup: the kernel counts a cgroup on one CPU per counter')
    return { pid: -1, cpu, cgroup: t.cgroup }
  }
  if (pid === 'all' && cpu === 'all')
    throw new RangeError("Expected a CPU number for target.cpu when target.pid is 'all': the kernel cannot count every process on every CPU with one counter; open one counter per CPU")
  return { pid: pid === 'all' ? -1 : pid, cpu: cpu === 'all' ? -1 : cpu }
}

function checkTargetShape(target: unknown): { pid?: number | 'all'; cpu?: number | 'all'; cgroup?: string } {
  if (!isPlainObject(target)) throw typeError('an object like { pid, cpu, cgroup }', 'target', target)
  for (const key of Object.keys(target)) {
    if (!['pid', 'cpu', 'cgroup'].includes(key)) throw new TypeError(`Unknown target field ${key}; expected pid, cpu or cgroup`)
  }
  for (const key of ['pid', 'cpu'] as const) {
    const v = target[key]
    if (v !== undefined && v !== 'all' && typeof v !== 'number') throw typeError("a number or 'all'", `target.${key}`, v)
  }
  return target as { pid?: number | 'all'; cpu?: number | 'all'; cgroup?: string }
}
