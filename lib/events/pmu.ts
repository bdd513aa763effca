/** Dynamic PMU events (`pmu/terms/`, `{ type: 'dynamic' }`) and the probe PMUs: type numbers and `format/` terms from sysfs. */

import type { NativeEvent } from '../../index'
import { PerfEventError } from '../errors/perf-event-error'
import { LOOKUP_HINTS, pmuMissingHint } from '../errors/hints'
import { listDir as list, readText as read } from '../system/files'
import { PMU_ROOT, pmuNames, pmuType as pmuTypeText } from '../system/kernel'
import { parseU64 } from './check'
import { closestNames, suggest, unknown } from './unknown'

/** Reads a PMU's type number. */
export function pmuType(pmu: string, label = pmu): number {
  const type = pmuTypeText(pmu)
  if (type === undefined) {
    const present = pmuNames()
    const near = suggest(closestNames(pmu, present).map((p) => `${p}/…/`)).trim()
    throw unknown(label, [`no PMU ${JSON.stringify(pmu)} in ${PMU_ROOT} (present: ${present.join(', ') || 'none'})`], LOOKUP_HINTS.pmus(near ? `${near} ` : ''))
  }
  return Number(type)
}

type ConfigField = 'config' | 'config1' | 'config2' | 'config3'

/** Inserts `value` into the bit ranges of a `format/` file such as `config:0-7,32-35`. */
function applyFormat(fields: Record<ConfigField, bigint>, format: string, value: bigint, term: string, label: string) {
  const m = /^(config[123]?):([0-9,-]+)$/.exec(format)
  if (!m) throw unknown(label, [`cannot read format ${JSON.stringify(format)} of term ${term}`])
  const field = m[1] as ConfigField
  let rest = value
  let width = 0
  for (const range of m[2].split(',')) {
    const [lo, hi = lo] = range.split('-').map(Number)
    const bits = hi - lo + 1
    width += bits
    const mask = (1n << BigInt(bits)) - 1n
    fields[field] |= (rest & mask) << BigInt(lo)
    rest >>= BigInt(bits)
  }
  if (rest !== 0n) throw new RangeError(`Expected a value that fits ${width} bits for term ${term} of ${JSON.stringify(label)} but received 0x${value.toString(16)}`)
}

export function parsePmuEvent(pmu: string, terms: string, label: string): NativeEvent {
  const type = pmuType(pmu, label)
  const quoted = JSON.stringify(label)
  const fields: Record<ConfigField, bigint> = { config: 0n, config1: 0n, config2: 0n, config3: 0n }
  const dir = `${PMU_ROOT}/${pmu}`
  const apply = (termList: string, depth: number) => {
    for (const raw of termList.split(',').map((t) => t.trim()).filter(Boolean)) {
      const eq = raw.indexOf('=')
      const key = eq < 0 ? raw : raw.slice(0, eq)
      const value = eq < 0 ? 1n : parseU64(raw.slice(eq + 1), `term ${key} of ${quoted}`)
      if (key === 'config' || key === 'config1' || key === 'config2' || key === 'config3') {
        fields[key] |= value
        continue
      }
      const format = read(`${dir}/format/${key}`)
      if (format !== undefined) {
        applyFormat(fields, format, value, key, label)
        continue
      }
      const alias = eq < 0 && depth === 0 ? read(`${dir}/events/${key}`) : undefined
      if (alias !== undefined) {
        apply(alias, depth + 1)
        continue
      }
      const formats = list(`${dir}/format`)
      const events = list(`${dir}/events`).filter((e) => !e.includes('.'))
      const near = suggest(closestNames(key, [...formats, ...events]).map((n) => `${pmu}/${n}/`)).trim()
      throw unknown(label, [
        `PMU ${pmu} has no format term or event alias ${JSON.stringify(key)} (looked in ${dir}/format and ${dir}/events; formats: ${formats.join(', ') || 'none'}; events: ${events.join(', ') || 'none'})`,
      ], LOOKUP_HINTS.pmuEvents(near ? `${near} ` : '', pmu))
    }
  }
  apply(terms, 0)
  return { type: 'dynamic', pmu: type, ...fields }
}

/** Probes need their PMU; without it the crate's sysfs lookup fails inside the syscall with a bare ENOENT. */
export function probePmu(pmu: 'kprobe' | 'uprobe') {
  if (pmuTypeText(pmu) !== undefined) return
  throw new PerfEventError(`No ${pmu} PMU: ${PMU_ROOT}/${pmu} is missing (present: ${pmuNames().join(', ') || 'none'}) (ENOENT)`, 'ENOENT', {
    errno: 2,
    syscall: 'lookup',
    hint: pmuMissingHint(pmu),
  })
}
