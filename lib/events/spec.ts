/** Typed event objects (`EventSpec`) → resolved events: validated field by field. */

import type { NativeEvent } from '../../index'
import { rangeError, toU64, typeError } from './check'
import { CACHE_NAMES, CACHE_OPS, CACHE_RESULTS, HARDWARE_NAMES, SOFTWARE_NAMES } from './names'
import { named } from './parse'
import { pmuType, probePmu } from './pmu'
import type { EventSpec, ResolvedEvent } from './types'

function optU64(value: unknown, name: string): bigint | undefined {
  return value === undefined ? undefined : toU64(value, name)
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[] | Set<T>, name: string): T {
  const list = [...allowed]
  if (typeof value !== 'string' || !list.includes(value as T)) throw typeError(`one of ${list.map((v) => `'${v}'`).join(', ')}`, name, value)
  return value as T
}

/** Validates a typed event object and converts it for native code. */
export function resolveSpec(spec: EventSpec): ResolvedEvent {
  if (spec === null || typeof spec !== 'object') throw typeError('an event string or an event object', 'event', spec)
  const s = spec as Record<string, unknown>
  const t = s.type
  let native: NativeEvent
  switch (t) {
    case 'hardware':
      native = { type: t, name: oneOf(s.name, HARDWARE_NAMES, 'event.name') }
      break
    case 'software':
      native = { type: t, name: oneOf(s.name, SOFTWARE_NAMES, 'event.name') }
      break
    case 'hwCache':
      native = {
        type: t,
        cache: oneOf(s.cache, CACHE_NAMES, 'event.cache'),
        op: oneOf(s.op, CACHE_OPS, 'event.op'),
        result: oneOf(s.result, CACHE_RESULTS, 'event.result'),
      }
      break
    case 'raw':
      native = { type: t, config: toU64(s.config, 'event.config'), config1: optU64(s.config1, 'event.config1'), config2: optU64(s.config2, 'event.config2'), config3: optU64(s.config3, 'event.config3') }
      break
    case 'tracepoint':
      native = { type: t, id: toU64(s.id, 'event.id') }
      break
    case 'breakpoint': {
      const access = oneOf(s.access, ['r', 'w', 'rw', 'x'], 'event.access')
      if (s.len !== undefined && (!Number.isInteger(s.len) || (s.len as number) < 1 || (s.len as number) > 8)) throw rangeError('an integer from 1 to 8', 'event.len', s.len)
      native = { type: t, access, addr: toU64(s.addr, 'event.addr'), len: s.len as number | undefined }
      break
    }
    case 'dynamic': {
      let pmu: number
      if (typeof s.pmu === 'string') pmu = pmuType(s.pmu)
      else if (typeof s.pmu === 'number' && Number.isInteger(s.pmu) && s.pmu >= 0 && s.pmu <= 0xffffffff) pmu = s.pmu
      else throw typeError('a PMU name or type number', 'event.pmu', s.pmu)
      native = { type: t, pmu, config: toU64(s.config, 'event.config'), config1: optU64(s.config1, 'event.config1'), config2: optU64(s.config2, 'event.config2'), config3: optU64(s.config3, 'event.config3') }
      break
    }
    case 'kprobe': {
      probePmu(t)
      if (s.ret !== undefined && typeof s.ret !== 'boolean') throw typeError('a boolean', 'event.ret', s.ret)
      if ((s.symbol === undefined) === (s.addr === undefined)) throw new TypeError('Expected exactly one of symbol or addr for a kprobe event')
      if (s.symbol !== undefined && (typeof s.symbol !== 'string' || !s.symbol)) throw typeError('a non-empty string', 'event.symbol', s.symbol)
      native = s.symbol !== undefined
        ? { type: t, symbol: s.symbol as string, offset: optU64(s.offset, 'event.offset'), ret: s.ret as boolean | undefined }
        : { type: t, addr: toU64(s.addr, 'event.addr'), ret: s.ret as boolean | undefined }
      break
    }
    case 'uprobe':
      probePmu(t)
      if (typeof s.path !== 'string' || !s.path) throw typeError('a non-empty path string', 'event.path', s.path)
      if (s.ret !== undefined && typeof s.ret !== 'boolean') throw typeError('a boolean', 'event.ret', s.ret)
      native = { type: t, path: s.path, offset: toU64(s.offset, 'event.offset'), ret: s.ret as boolean | undefined }
      break
    default:
      throw typeError("an event type of 'hardware', 'hwCache', 'software', 'raw', 'tracepoint', 'breakpoint', 'dynamic', 'kprobe' or 'uprobe'", 'event.type', t)
  }
  const label = describeNative(native)
  return named(native, label, label)
}

function describeNative(e: NativeEvent): string {
  switch (e.type) {
    case 'hardware':
    case 'software':
      return e.name
    case 'hwCache':
      return `${e.cache}-${e.op}-${e.result}`
    case 'tracepoint':
      return `tracepoint ${e.id}`
    case 'breakpoint':
      return `mem:0x${e.addr.toString(16)}:${e.access}`
    case 'kprobe':
      return `${e.ret ? 'kretprobe' : 'kprobe'}:${e.symbol ?? `0x${e.addr?.toString(16)}`}`
    case 'uprobe':
      return `${e.ret ? 'uretprobe' : 'uprobe'}:${e.path}+0x${e.offset.toString(16)}`
    case 'raw':
      return `r${e.config.toString(16)}`
    case 'dynamic':
      return `pmu ${e.pmu} config 0x${e.config.toString(16)}`
  }
}
