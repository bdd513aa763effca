// "Since Linux X.Y": which Linux version an option, event field or operation needs, and which
// build variant has it. Used to explain ERR_UNSUPPORTED_BY_BUILD; the one module that knows this.
import { release } from 'node:os'
import type { NativeOpts, NativeTarget } from '../../index'
import { binding, buildInfo } from '../loading/binding'
import type { ErrorContext } from '../errors/errors'
import { BUILD_HINTS } from '../errors/hints'
import type { ResolvedEvent } from './events'
import { currentTarget } from '../loading/loader'
import { OPTIONS_SCHEMA, type Schema, type Since } from './options'
import { compareVersions, packageName, parseRelease, variantWith } from '../loading/variants'

/** [field, value test, Linux version that added it]: event fields; options carry theirs in OPTIONS_SCHEMA. */
const EVENT_SINCE: [string, (v: unknown) => boolean, Since][] = [
  ['config3', (v) => typeof v === 'bigint' && v > 0n, '6.3'],
  ['name', (v) => v === 'cgroupSwitch', '5.13'],
  ['name', (v) => v === 'bpfOutput', '4.4'],
  ['len', (v) => v === 3 || v === 5 || v === 6 || v === 7, '4.10'],
]

export function versionLess(a: string, b: string): boolean {
  return compareVersions(a, b) < 0
}

/** `path` alone for a flag, else `path value`. */
function describeUse(path: string, value: unknown): string {
  return value === true ? path : `${path} ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`
}

/** The option values in use and the Linux version each needs, from the `since` of the validation table. */
export function optionsSince(opts: object, schema: Schema = OPTIONS_SCHEMA, prefix = ''): { option: string; since: Since }[] {
  const out: { option: string; since: Since }[] = []
  for (const [key, value] of Object.entries(opts)) {
    const rule = schema[key]
    const path = prefix + key
    if (value === undefined || rule === undefined || typeof rule !== 'object') continue
    let since: Since | true | undefined
    if ('bool' in rule) since = value === true ? rule.bool : undefined
    else if ('uint' in rule) since = typeof value === 'number' && value > 0 ? rule.since : undefined
    else if ('values' in rule) since = rule.values[value as string]
    else if (typeof value === 'object' && value !== null) out.push(...optionsSince(value, 'object' in rule ? rule.object : rule.oneOf, `${path}.`))
    if (typeof since === 'string') out.push({ option: describeUse(path, value), since })
  }
  return out
}

/** The options and event fields in use that need a newer Linux than `built`. */
function needsNewer(opts: NativeOpts, event: object, built: string): { option: string; since: string }[] {
  const fields = event as Record<string, unknown>
  const events = EVENT_SINCE.filter(([key, used]) => used(fields[key])).map(([key, , since]) => ({ option: describeUse(`event.${key}`, fields[key]), since }))
  return [...optionsSince(opts), ...events].filter(({ since }) => versionLess(built, since))
}

/** The Linux version an operation needs (attachBpf 4.1, queryBpf 4.16, switchTo 4.17). */
const OPERATION_SINCE: Record<'attachBpf' | 'queryBpf' | 'switchTo', Since> = { attachBpf: '4.1', queryBpf: '4.16', switchTo: '4.17' }

/** ` (the linux-5.15 variant has it: PERF_EVENT_OPEN_VARIANT=linux-5.15, package …)` */
function variantHint(since: string): string {
  const v = variantWith(since)
  if (!v) return ''
  const target = currentTarget()
  const pkg = target ? `, package ${packageName(target.platform, v.name)}` : ''
  return BUILD_HINTS.variantHasIt(v.name, pkg, v.kernel)
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
    excludeAny: Object.values(opts.exclude ?? {}).some((v) => v === true),
    cpuWide: target.pid < 0 && target.cgroup === undefined,
    probePath: ev.native.type === 'uprobe' ? ev.native.path : undefined,
    userCountingWorks,
    unsupported: () => {
      const built = binding().buildLinux()
      const needs = needsNewer(opts, ev.native, built).map(({ option, since }) => `${option} needs Linux ${since}${variantHint(since)}`)
      return BUILD_HINTS.unsupportedByBuild(buildInfo().variant, built, needs)
    },
    tooNewForKernel: () => {
      const kernel = parseRelease(release())
      const needs = kernel ? needsNewer(opts, ev.native, kernel.join('.')) : []
      return needs.length ? BUILD_HINTS.tooNewForKernel(needs.map(({ option, since }) => `${option} needs Linux ${since}`), release()) : undefined
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
        ? BUILD_HINTS.operationNeeds(`${op} needs Linux ${since}${variantHint(since)}`, buildInfo().variant, built)
        : undefined
    },
  }
}

/**
 * Whether an unprivileged, user-space-only counter of the calling thread opens: at paranoid 3
 * Debian/Ubuntu/Android kernels block everything, mainline treats 3 like 2. Probed, not assumed.
 */
export function userCountingWorks(): boolean | undefined {
  try {
    const c = new (binding().NativeCounter)(
      { type: 'software', name: 'taskClock' },
      { pid: 0, cpu: -1 },
      { exclude: { kernel: true, hv: true } },
    )
    c.close()
    return true
  } catch (e) {
    const code = (e as { code?: unknown }).code
    return code === 'EACCES' || code === 'EPERM' ? false : undefined
  }
}
