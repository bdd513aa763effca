import type { NativeOpts, NativeTarget } from '../index'
import { rangeError, typeError } from './errors'
import type { ResolvedEvent, U64 } from './events'
import { toU64 } from './events'
import { compareVersions } from './variants'

/**
 * Which privilege levels NOT to count. Event-string modifiers (`:u`, `:k`…)
 * fill these; explicit options win.
 */
export interface Exclude {
  /** Do not count user space. */
  user?: boolean
  /** Do not count the kernel. With `perf_event_paranoid >= 2`, unprivileged users must set this. */
  kernel?: boolean
  /** Do not count the hypervisor. */
  hv?: boolean
  /** Do not count in host mode (KVM). */
  host?: boolean
  /** Do not count in guest mode (KVM). */
  guest?: boolean
  /** Do not count while the CPU is idle (CPU-wide counters). */
  idle?: boolean
}

/**
 * Which values `stat()` reads. `id`, `timeEnabled` and `timeRunning` are always read (so `Stat` has
 * them, and `scaled`/`multiplexed`/`neverRan` always mean something); only `lostRecords` is optional.
 */
export interface StatFormat {
  /** The event's kernel id (PERF_FORMAT_ID). Always read: only `true` is accepted. */
  id?: true
  /** Time the counter was enabled, in ns (PERF_FORMAT_TOTAL_TIME_ENABLED). Always read: only `true` is accepted. */
  timeEnabled?: true
  /** Time the counter was on the PMU, in ns (PERF_FORMAT_TOTAL_TIME_RUNNING). Always read: only `true` is accepted. */
  timeRunning?: true
  /** Records lost by this event's sampler (PERF_FORMAT_LOST). Since Linux 6.0. */
  lostRecords?: boolean
}

/** Sample on every `count` events (a period) or `freq` times a second (the kernel adjusts the period). */
export type SampleOn = { freq: U64 } | { count: U64 }

/** Call chain options of samples. */
export interface CallChainOptions {
  /** Leave user frames out. */
  excludeUser?: boolean
  /** Leave kernel frames out. */
  excludeKernel?: boolean
  /** Unwind user stacks later, in a faultable context (deferred call chains). Since Linux 6.19. */
  deferUser?: boolean
  /** At most this many frames (`kernel.perf_event_max_stack` caps it). Since Linux 4.8. */
  maxStackFrames?: number
}

/** Branch stack (LBR) sampling options. Needs hardware support (Intel LBR, AMD BRS, Arm BRBE). */
export interface LbrOptions {
  /** Privilege levels of branch targets to record (default: the event's). */
  targetPriv?: { user?: boolean; kernel?: boolean; hv?: boolean }
  /** Branch kinds to record. `indJump` since Linux 4.2, `callStack` since 4.1, `call` since 4.4. */
  branchType?: {
    any?: boolean
    anyReturn?: boolean
    cond?: boolean
    indJump?: boolean
    callStack?: boolean
    call?: boolean
    indCall?: boolean
    anyCall?: boolean
    inTx?: boolean
    noTx?: boolean
    abortTx?: boolean
  }
  /** Save the hardware index of the newest entry. Since Linux 5.7. */
  hwIndex?: boolean
  /** Entry fields: `counter` since Linux 6.8, `branchType` since 4.14, `branchPriv` since 6.1. */
  entryFormat?: { flags?: boolean; cycles?: boolean; counter?: boolean; branchType?: boolean; branchPriv?: boolean }
}

/** What each sample record carries (PERF_SAMPLE_*). */
export interface SampleFormat {
  /** Counter values at sample time (PERF_SAMPLE_READ). */
  stat?: boolean
  /** Sample period (PERF_SAMPLE_PERIOD). */
  period?: boolean
  /** cgroup id (PERF_SAMPLE_CGROUP). Since Linux 5.7. */
  cgroup?: boolean
  /** Call chain (PERF_SAMPLE_CALLCHAIN). */
  callChain?: CallChainOptions
  /** Bytes of user stack to copy into each sample (PERF_SAMPLE_STACK_USER); a multiple of 8. */
  userStack?: number
  /** Data address (PERF_SAMPLE_ADDR), for memory events. */
  dataAddr?: boolean
  /** Physical data address (PERF_SAMPLE_PHYS_ADDR). Since Linux 4.14; needs privilege. */
  dataPhysAddr?: boolean
  /** Data page size (PERF_SAMPLE_DATA_PAGE_SIZE). Since Linux 5.11. */
  dataPageSize?: boolean
  /** Data source (PERF_SAMPLE_DATA_SRC). */
  dataSource?: boolean
  /** Instruction pointer (PERF_SAMPLE_IP). */
  codeAddr?: boolean
  /** Code page size (PERF_SAMPLE_CODE_PAGE_SIZE). Since Linux 5.11. */
  codePageSize?: boolean
  /** User registers to dump (bit mask of arch/<arch>/include/uapi/asm/perf_regs.h). */
  userRegs?: U64
  /** Registers at interrupt to dump (same mask layout). */
  intrRegs?: U64
  /** Raw tracepoint payload (PERF_SAMPLE_RAW). Needs privilege. */
  raw?: boolean
  /** Branch stack (PERF_SAMPLE_BRANCH_STACK). */
  lbr?: LbrOptions
  /** Bytes of AUX area snapshot per sample (PERF_SAMPLE_AUX). Since Linux 5.5. */
  aux?: number
  /** Transaction abort info (PERF_SAMPLE_TRANSACTION). */
  txn?: boolean
  /** Sample weight: `'full'` (PERF_SAMPLE_WEIGHT) or `'vars'` (PERF_SAMPLE_WEIGHT_STRUCT, since Linux 5.12). */
  weight?: 'full' | 'vars'
}

/** Extra (non-sample) records to generate into the sampler's ring. */
export interface ExtraRecord {
  /** fork/exit records. */
  task?: boolean
  /** read records on exit of inherited children (inherit_stat). */
  read?: boolean
  /** comm records (also enables `task`). */
  comm?: boolean
  /** mmap records: `code` for executable maps, `data` for others, `ext` for mmap2 (inode or, since Linux 5.12, `buildId`). */
  mmap?: { code?: boolean; data?: boolean; ext?: { buildId?: boolean } }
  /** cgroup records. Since Linux 5.7. */
  cgroup?: boolean
  /** ksymbol records. Since Linux 5.1. */
  ksymbol?: boolean
  /** BPF event records. Since Linux 5.1. */
  bpfEvent?: boolean
  /** text poke records. Since Linux 5.9; needs privilege. */
  textPoke?: boolean
  /** context switch records. Since Linux 4.3. */
  ctxSwitch?: boolean
  /** namespaces records. Since Linux 4.12. */
  namespaces?: boolean
  /** deferred call chain records. Since Linux 6.19. */
  callChainDeferred?: boolean
}

/** Which identity fields every record carries (PERF_SAMPLE_ID, STREAM_ID, CPU, TID, TIME). */
export interface RecordIdFormat {
  id?: boolean
  streamId?: boolean
  cpu?: boolean
  task?: boolean
  time?: boolean
}

/** When a waiting sampler is woken. */
export interface WakeUp {
  /** Every `samples` samples, or every `bytes` bytes (watermark). */
  on?: { samples: number } | { bytes: number }
  /** Every N bytes of AUX data. Since Linux 4.1. */
  onAuxBytes?: number
}

/** Options shared by counters and group members, mirroring the crate's `Opts` in camelCase. */
export interface CommonOptions {
  /** Privilege levels not to count. */
  exclude?: Exclude
  /**
   * Children inherit the counter: `'newChild'` (new threads and processes created after the counter)
   * or `'newThread'` (threads only, since Linux 5.13). Group reads (`CounterGroup`) cannot be combined
   * with inherit.
   */
  inherit?: 'newChild' | 'newThread'
  /** On execve: `'enable'` the counter, or `'remove'` it (since Linux 5.13). */
  onExecve?: 'enable' | 'remove'
  /** Which values `stat()` reads. */
  statFormat?: StatFormat
  /**
   * Start counting as soon as the counter is opened. Counters default to disabled until `enable()`;
   * group members default to enabled, so they count whenever their leader is enabled.
   */
  enable?: boolean
  /** Sampling period or frequency (for samplers). Frequencies above `kernel.perf_event_max_sample_rate` fail with EINVAL. */
  sampleOn?: SampleOn
  /** Skid constraint (precise_ip): `'arbitrary'` (default), `'const'`, `'reqZero'`, `'zero'`. */
  sampleSkid?: 'arbitrary' | 'const' | 'reqZero' | 'zero'
  /** Fields of sample records. */
  sampleFormat?: SampleFormat
  /** Extra record types. */
  extraRecord?: ExtraRecord
  /** Put the record id fields into every record, not only samples (sample_id_all). */
  recordIdAll?: boolean
  /** Record id fields. */
  recordIdFormat?: RecordIdFormat
  /** Sampler wake-up policy. */
  wakeUp?: WakeUp
}

/** Options of a counter or a group leader. */
export interface CounterOptions extends CommonOptions {
  /** This group must be the only one on the PMU while it runs (exclusive). Hardware PMUs only. */
  exclusive?: boolean
  /** Keep on the PMU at all times; if it cannot be, reads fail with ERR_COUNTER_ERROR_STATE (pinned). */
  pin?: boolean
  /** Clock of record timestamps (use_clockid). Since Linux 4.1. */
  timer?: 'tai' | 'realTime' | 'bootTime' | 'monotonic' | 'monotonicRaw'
  /** Create the AUX tracer paused. Since Linux 6.13. */
  pauseAux?: boolean
}

/** Options of a group member (sibling). */
export interface MemberOptions extends CommonOptions {
  /** Emit this member's data into the leader's AUX area (aux_output). Since Linux 5.4. */
  auxOutput?: boolean
  /** On overflow, pause or resume the leader's AUX tracer. Since Linux 6.13. */
  auxAction?: 'pause' | 'resume'
}

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

type Rule =
  | 'bool'
  | 'true'
  | 'u64'
  | { uint: number }
  | { values: readonly string[] }
  | { object: Schema }
  | { oneOf: Record<string, Rule> }

type Schema = Record<string, Rule>

const U32 = { uint: 0xffffffff }
const bools = (...keys: string[]): Schema => Object.fromEntries(keys.map((k) => [k, 'bool' as const]))

const SAMPLE_FORMAT: Schema = {
  ...bools('stat', 'period', 'cgroup', 'dataAddr', 'dataPhysAddr', 'dataPageSize', 'dataSource', 'codeAddr', 'codePageSize', 'raw', 'txn'),
  callChain: { object: { ...bools('excludeUser', 'excludeKernel', 'deferUser'), maxStackFrames: { uint: 0xffff } } },
  userStack: U32,
  userRegs: 'u64',
  intrRegs: 'u64',
  aux: U32,
  weight: { values: ['full', 'vars'] },
  lbr: {
    object: {
      targetPriv: { object: bools('user', 'kernel', 'hv') },
      branchType: { object: bools('any', 'anyReturn', 'cond', 'indJump', 'callStack', 'call', 'indCall', 'anyCall', 'inTx', 'noTx', 'abortTx') },
      hwIndex: 'bool',
      entryFormat: { object: bools('flags', 'cycles', 'counter', 'branchType', 'branchPriv') },
    },
  },
}

const COMMON: Schema = {
  exclude: { object: bools('user', 'kernel', 'hv', 'host', 'guest', 'idle') },
  inherit: { values: ['newChild', 'newThread'] },
  onExecve: { values: ['enable', 'remove'] },
  statFormat: { object: { id: 'true', timeEnabled: 'true', timeRunning: 'true', lostRecords: 'bool' } },
  enable: 'bool',
  sampleOn: { oneOf: { freq: 'u64', count: 'u64' } },
  sampleSkid: { values: ['arbitrary', 'const', 'reqZero', 'zero'] },
  sampleFormat: { object: SAMPLE_FORMAT },
  extraRecord: {
    object: {
      ...bools('task', 'read', 'comm', 'cgroup', 'ksymbol', 'bpfEvent', 'textPoke', 'ctxSwitch', 'namespaces', 'callChainDeferred'),
      mmap: { object: { ...bools('code', 'data'), ext: { object: bools('buildId') } } },
    },
  },
  recordIdAll: 'bool',
  recordIdFormat: { object: bools('id', 'streamId', 'cpu', 'task', 'time') },
  wakeUp: { object: { on: { oneOf: { samples: U32, bytes: U32 } }, onAuxBytes: U32 } },
}

const COUNTER: Schema = {
  ...COMMON,
  exclusive: 'bool',
  pin: 'bool',
  timer: { values: ['tai', 'realTime', 'bootTime', 'monotonic', 'monotonicRaw'] },
  pauseAux: 'bool',
}

const MEMBER: Schema = { ...COMMON, auxOutput: 'bool', auxAction: { values: ['pause', 'resume'] } }

const NOT_OFFERED: Record<string, string> = {
  sigtrapOnSample:
    'sigtrapOnSample is not offered: the kernel sends SIGTRAP to the sampled thread, and Node.js has no SIGTRAP handler, so the default action would kill the process.',
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function check(value: unknown, rule: Rule, path: string): unknown {
  if (rule === 'bool') {
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
    if (typeof value !== 'string' || !rule.values.includes(value)) throw typeError(`one of ${rule.values.map((v) => `'${v}'`).join(', ')}`, path, value)
    return value
  }
  if ('oneOf' in rule) {
    const keys = Object.keys(rule.oneOf)
    if (!isPlainObject(value)) throw typeError(`an object with one of ${keys.join(', ')}`, path, value)
    const given = Object.keys(value).filter((k) => value[k] !== undefined)
    if (given.length !== 1 || !keys.includes(given[0])) throw typeError(`an object with exactly one of ${keys.join(', ')}`, path, value)
    return { [given[0]]: check(value[given[0]], rule.oneOf[given[0]], `${path}.${given[0]}`) }
  }
  return checkObject(value, rule.object, path)
}

function checkObject(value: unknown, schema: Schema, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw typeError('an object', path, value)
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const rule = schema[key]
    const at = `${path}.${key}`
    if (!rule) {
      throw new TypeError(NOT_OFFERED[key] ?? `Unknown option ${at}; expected one of: ${Object.keys(schema).join(', ')}`)
    }
    if (v !== undefined) out[key] = check(v, rule, at)
  }
  return out
}

const DEFAULT_STAT = { id: true, timeEnabled: true, timeRunning: true }

function withModifiers(opts: Record<string, unknown>, ev: ResolvedEvent): Record<string, unknown> {
  const exclude: Exclude | undefined = ev.exclude
    ? { ...ev.exclude, ...(opts.exclude as Exclude | undefined) }
    : (opts.exclude as Exclude | undefined)
  return {
    ...opts,
    exclude,
    sampleSkid: opts.sampleSkid ?? ev.skid,
    statFormat: { ...DEFAULT_STAT, ...(opts.statFormat as object | undefined) },
  }
}

/** Validates counter (or leader) options and fills defaults. */
export function counterOptions(options: unknown, ev: ResolvedEvent): NativeOpts {
  return withModifiers(checkObject(options ?? {}, COUNTER, 'options'), ev) as NativeOpts
}

/**
 * Validates group member options and fills defaults. Members are created enabled
 * (`enable: true`) so that they count whenever the leader does: enabling the
 * leader does not enable a member that was opened disabled.
 */
export function memberOptions(options: unknown, ev: ResolvedEvent): NativeOpts {
  return withModifiers({ enable: true, ...checkObject(options ?? {}, MEMBER, 'options') }, ev) as NativeOpts
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

// ---------------------------------------------------------------------------
// Linux versions that options need: what ERR_UNSUPPORTED_BY_BUILD explains.

/** [path, value test, Linux version that added it] */
const SINCE: [string, (v: unknown) => boolean, string][] = [
  ['inherit', (v) => v === 'newThread', '5.13'],
  ['onExecve', (v) => v === 'remove', '5.13'],
  ['statFormat.lostRecords', (v) => v === true, '6.0'],
  ['sampleFormat.cgroup', (v) => v === true, '5.7'],
  ['sampleFormat.dataPhysAddr', (v) => v === true, '4.14'],
  ['sampleFormat.dataPageSize', (v) => v === true, '5.11'],
  ['sampleFormat.codePageSize', (v) => v === true, '5.11'],
  ['sampleFormat.aux', (v) => v !== undefined, '5.5'],
  ['sampleFormat.weight', (v) => v === 'vars', '5.12'],
  ['sampleFormat.callChain.maxStackFrames', (v) => typeof v === 'number' && v > 0, '4.8'],
  ['sampleFormat.callChain.deferUser', (v) => v === true, '6.19'],
  ['sampleFormat.lbr.branchType.indJump', (v) => v === true, '4.2'],
  ['sampleFormat.lbr.branchType.callStack', (v) => v === true, '4.1'],
  ['sampleFormat.lbr.branchType.call', (v) => v === true, '4.4'],
  ['sampleFormat.lbr.hwIndex', (v) => v === true, '5.7'],
  ['sampleFormat.lbr.entryFormat.counter', (v) => v === true, '6.8'],
  ['sampleFormat.lbr.entryFormat.branchType', (v) => v === true, '4.14'],
  ['sampleFormat.lbr.entryFormat.branchPriv', (v) => v === true, '6.1'],
  ['extraRecord.cgroup', (v) => v === true, '5.7'],
  ['extraRecord.ksymbol', (v) => v === true, '5.1'],
  ['extraRecord.bpfEvent', (v) => v === true, '5.1'],
  ['extraRecord.textPoke', (v) => v === true, '5.9'],
  ['extraRecord.ctxSwitch', (v) => v === true, '4.3'],
  ['extraRecord.namespaces', (v) => v === true, '4.12'],
  ['extraRecord.callChainDeferred', (v) => v === true, '6.19'],
  ['extraRecord.mmap.ext.buildId', (v) => v === true, '5.12'],
  ['wakeUp.onAuxBytes', (v) => typeof v === 'number' && v > 0, '4.1'],
  ['timer', (v) => v !== undefined, '4.1'],
  ['pauseAux', (v) => v === true, '6.13'],
  ['auxOutput', (v) => v === true, '5.4'],
  ['auxAction', (v) => v !== undefined, '6.13'],
  ['event.config3', (v) => typeof v === 'bigint' && v > 0n, '6.3'],
  ['event.name', (v) => v === 'cgroupSwitch', '5.13'],
  ['event.name', (v) => v === 'bpfOutput', '4.4'],
  ['event.len', (v) => v === 3 || v === 5 || v === 6 || v === 7, '4.10'],
]

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), obj)
}

export function versionLess(a: string, b: string): boolean {
  return compareVersions(a, b) < 0
}

/** The options (and event fields) in use that need a newer Linux than `built`. */
export function needsNewer(opts: NativeOpts, event: object, built: string): { option: string; since: string }[] {
  const root = { ...opts, event }
  return SINCE.filter(([path, used, since]) => used(at(root, path)) && versionLess(built, since)).map(([path, , since]) => {
    const value = at(root, path)
    return { option: value === true ? path : `${path} ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`, since }
  })
}

/** The Linux version an operation needs (attachBpf 4.1, queryBpf 4.16, switchTo 4.17). */
export const OPERATION_SINCE = { attachBpf: '4.1', queryBpf: '4.16', switchTo: '4.17' } as const
