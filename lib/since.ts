// "Since Linux X.Y": which Linux version an option, event field or operation needs, and which
// build variant has it. Used to explain ERR_UNSUPPORTED_BY_BUILD; the one module that knows this.
import type { NativeOpts, NativeTarget } from '../index'
import { binding, buildInfo } from './binding'
import type { ErrorContext } from './errors'
import type { ResolvedEvent } from './events'
import { currentTarget } from './loader'
import { compareVersions, packageName, variantWith } from './variants'

/** Every dotted path of a native option struct, e.g. `sampleFormat.callChain.maxStackFrames` (compile-time check of SINCE). */
type OptionPath<N = NativeOpts> = {
  [K in keyof N & string]-?: NonNullable<N[K]> extends bigint | string | number | boolean ? K : K | `${K}.${OptionPath<NonNullable<N[K]>>}`
}[keyof N & string]

/** [path, value test, Linux version that added it] */
const SINCE: [OptionPath | `event.${string}`, (v: unknown) => boolean, string][] = [
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
  return path.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), obj)
}

function versionLess(a: string, b: string): boolean {
  return compareVersions(a, b) < 0
}

/** The options (and event fields) in use that need a newer Linux than `built`. */
function needsNewer(opts: NativeOpts, event: object, built: string): { option: string; since: string }[] {
  const root = { ...opts, event }
  return SINCE.filter(([path, used, since]) => used(at(root, path)) && versionLess(built, since)).map(([path, , since]) => {
    const value = at(root, path)
    return { option: value === true ? path : `${path} ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`, since }
  })
}

/** The Linux version an operation needs (attachBpf 4.1, queryBpf 4.16, switchTo 4.17). */
const OPERATION_SINCE = { attachBpf: '4.1', queryBpf: '4.16', switchTo: '4.17' } as const

/** ` (the linux-5.15 variant has it: PERF_EVENT_OPEN_VARIANT=linux-5.15, package …)` */
function variantHint(since: string): string {
  const v = variantWith(since)
  if (!v) return ''
  const target = currentTarget()
  const pkg = target ? `, package ${packageName(target.platform, v.name)}` : ''
  return ` (the ${v.name} variant has it: PERF_EVENT_OPEN_VARIANT=${v.name}${pkg}; it needs Linux ${v.kernel}+)`
}

/** Builds the error context of an opened event: used for every error of that handle. */
export function contextFor(ev: ResolvedEvent, opts: NativeOpts, target: NativeTarget): ErrorContext {
  const freq = opts.sampleOn?.freq
  return {
    what: ev.label,
    eventType: ev.native.type,
    freq,
    excludeKernel: opts.exclude?.kernel === true,
    pid: target.pid > 0 && target.cgroup === undefined ? target.pid : undefined,
    cgroup: target.cgroup,
    inheritAllCpus: opts.inherit !== undefined && target.cpu < 0,
    unsupported: () => {
      const built = binding().buildLinux()
      const needs = needsNewer(opts, ev.native, built).map(({ option, since }) => `${option} needs Linux ${since}${variantHint(since)}`)
      return `The loaded build (${buildInfo().variant}) has the perf ABI of Linux ${built}. ${needs.length ? `${needs.join('; ')}.` : 'Use a variant for a newer kernel.'}`
    },
  }
}

/** The error context of an operation that needs a newer Linux than the loaded build may have. */
export function operationContext(ctx: ErrorContext, op: keyof typeof OPERATION_SINCE): ErrorContext {
  return {
    ...ctx,
    unsupported: () => {
      const built = binding().buildLinux()
      const since = OPERATION_SINCE[op]
      return versionLess(built, since)
        ? `${op} needs Linux ${since}${variantHint(since)}; the loaded build (${buildInfo().variant}) has the perf ABI of Linux ${built}.`
        : undefined
    },
  }
}
