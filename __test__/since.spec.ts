// "Since Linux X.Y" is written once as documentation, on the native option fields in src/options/
// (it reaches users through index.d.ts), and once as data, the `since` of the facade's validation
// table (lib/events/options.ts) that explains ERR_UNSUPPORTED_BY_BUILD. This test holds the two together.
import test from 'ava'
import { readFileSync } from 'node:fs'
import { OPTIONS_SCHEMA, type Rule, type Schema } from '../dist/events/options.js'
import { optionsSince } from '../dist/events/since.js'

/** interface name → field name → { doc, type } of the generated index.d.ts. */
function nativeInterfaces(): Map<string, Map<string, { doc: string; type: string }>> {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  const out = new Map<string, Map<string, { doc: string; type: string }>>()
  for (const m of dts.matchAll(/export interface (\w+) \{\n([\s\S]*?)\n\}/g)) {
    const fields = new Map<string, { doc: string; type: string }>()
    for (const f of m[2].matchAll(/\/\*\*([\s\S]*?)\*\/\s*\n\s*(\w+)\??: ([^\n]+)/g)) fields.set(f[2], { doc: f[1], type: f[3].trim() })
    out.set(m[1], fields)
  }
  return out
}

const versionsIn = (doc: string) => [...new Set([...doc.matchAll(/[Ss]ince Linux (\d+\.\d+)/g)].map((m) => m[1]))].sort()

/** The versions a leaf rule names; undefined for nested objects (their fields carry their own). */
function ruleVersions(rule: Rule): string[] | undefined {
  if (rule === 'bool' || rule === 'u64' || rule === 'true') return []
  if ('bool' in rule) return [rule.bool]
  if ('uint' in rule) return rule.since ? [rule.since] : []
  if ('values' in rule) return [...new Set(Object.values(rule.values).filter((v): v is `${number}.${number}` => typeof v === 'string'))].sort()
  return undefined
}

test('every option field documents the same Linux versions as its validation rule', (t) => {
  const native = nativeInterfaces()
  const mismatches: string[] = []
  let leaves = 0
  const walk = (schema: Schema, iface: string, prefix: string) => {
    const fields = native.get(iface)
    if (!fields) return void mismatches.push(`${prefix || 'options'}: no interface ${iface} in index.d.ts`)
    for (const [key, rule] of Object.entries(schema)) {
      const field = fields.get(key)
      if (!field) {
        mismatches.push(`${prefix}${key}: no documented field in ${iface}`)
        continue
      }
      const versions = ruleVersions(rule)
      if (versions === undefined) {
        walk('object' in (rule as object) ? (rule as { object: Schema }).object : (rule as { oneOf: Schema }).oneOf, field.type, `${prefix}${key}.`)
        continue
      }
      leaves++
      const documented = versionsIn(field.doc)
      if (documented.join() !== versions.join()) mismatches.push(`${prefix}${key}: docs say ${documented.join(', ') || 'nothing'}, the table ${versions.join(', ') || 'nothing'}`)
    }
  }
  walk(OPTIONS_SCHEMA, 'NativeOpts', '')
  t.deepEqual(mismatches, [])
  t.true(leaves > 60, `${leaves} fields checked`)
})

test('options in use are matched to the Linux version they need', (t) => {
  const used = optionsSince({
    inherit: 'newThread',
    onExecve: 'enable',
    statFormat: { id: true, lostRecords: true, timeRunning: false },
    sampleFormat: { callChain: { maxStackFrames: 0, deferUser: true }, weight: 'vars', lbr: { branchType: { call: true } } },
    wakeUp: { onAuxBytes: 4096 },
    timer: 'monotonic',
  })
  t.deepEqual(used, [
    { option: 'inherit "newThread"', since: '5.13' },
    { option: 'statFormat.lostRecords', since: '6.0' },
    { option: 'sampleFormat.callChain.deferUser', since: '6.19' },
    { option: 'sampleFormat.weight "vars"', since: '5.12' },
    { option: 'sampleFormat.lbr.branchType.call', since: '4.4' },
    { option: 'wakeUp.onAuxBytes 4096', since: '4.1' },
    { option: 'timer "monotonic"', since: '4.1' },
  ])
})
