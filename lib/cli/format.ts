/**
 * The CLI's text output, in perf's layout: the `stat` table (values with units, derived ratios,
 * running percentage, why events did not open), the `--per-thread` table, the `list` lines, and an
 * error on one line.
 * @packageDocumentation
 */
import { PerfEventError } from '../errors/errors'
import { resolveEvent, unitOf, type CountUnit, type ResolvedEvent } from '../events/events'
import type { EventInfo } from '../discovery/list'

/** One counted event, as printed and as written by --json. */
export interface Row {
  event: string
  /** Scaled count; `null` when the event did not open. */
  value: number | null
  /** `msec` for the clocks (value converted from ns), `''` for plain counts. */
  unit: string
  /** Raw count (before scaling), as a decimal string (exact), in `countUnit`. */
  count: string | null
  /** Unit of `count`: `'ns'` for the clocks (cpu-clock, task-clock), `'events'` for the rest. */
  countUnit: CountUnit
  /** % of the enabled time the event was on the PMU (below 100: multiplexed, value scaled). */
  runningPercent: number | null
  /** Derived ratio (CPUs utilized, IPC, miss %...) */
  derived?: { value: number; unit: string }
  /** Why it did not open. */
  error?: string
}

/** The event a label names (undefined where it does not parse: that row carries its error). */
function resolved(label: string): ResolvedEvent | undefined {
  try {
    return resolveEvent(label)
  } catch {
    return undefined
  }
}

/** What was read for each event (by label), or why it did not open. */
export type Readings = Map<string, { count: bigint; scaled: bigint; runningPercent: number } | { error: string }>

/** The rows of the stat table: each event's value in its unit, and perf's derived ratios. */
export function rows(labels: readonly string[], values: Readings, elapsedNs: number): Row[] {
  const events = labels.map(resolved)
  // perf's name of each row's event, without modifiers: derived ratios look events up by it.
  const names = labels.map((l, i) => events[i]?.name ?? l)
  const out: Row[] = labels.map((event, i) => {
    const v = values.get(event)!
    const countUnit = events[i] ? unitOf(events[i]) : 'events'
    if ('error' in v) return { event, value: null, unit: '', count: null, countUnit, runningPercent: null, error: v.error }
    const clock = countUnit === 'ns'
    return { event, value: clock ? Number(v.scaled) / 1e6 : Number(v.scaled), unit: clock ? 'msec' : '', count: v.count.toString(), countUnit, runningPercent: v.runningPercent }
  })
  const get = (name: string) => out.find((r, i) => names[i] === name && r.value !== null)?.value ?? undefined
  const taskMs = get('task-clock')
  const ratio = (num: string, den: string, unit: string, k = 100) => {
    const n = get(num)
    const d = get(den)
    return n !== undefined && d !== undefined && d > 0 ? { value: (n / d) * k, unit } : undefined
  }
  out.forEach((r, i) => {
    if (r.value === null) return
    const b = names[i]
    let d: Row['derived']
    if (b === 'task-clock' && elapsedNs > 0) d = { value: r.value / (elapsedNs / 1e6), unit: 'CPUs utilized' }
    else if (b === 'instructions') d = ratio('instructions', 'cycles', 'insn per cycle', 1)
    else if (b === 'branch-misses') d = ratio('branch-misses', 'branches', 'of all branches')
    else if (b === 'cache-misses') d = ratio('cache-misses', 'cache-references', 'of all cache refs')
    else if (/-misses$/.test(b) && !['branch-misses', 'cache-misses'].includes(b)) {
      const stem = b.replace(/-misses$/, '')
      d = ratio(b, `${stem}s`, `of all ${stem}s`) ?? ratio(b, `${stem}es`, `of all ${stem}es`)
    } else if (taskMs !== undefined && taskMs > 0 && r.countUnit !== 'ns') d = { value: r.value / (taskMs / 1000), unit: '/sec' }
    if (d) r.derived = d
  })
  return out
}

/** A number with thousands separators and `decimals` decimals, as perf prints counts. */
function fmtNumber(v: number, decimals: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

function fmtDerived(d: NonNullable<Row['derived']>): string {
  if (d.unit === '/sec') {
    const [v, p] = d.value >= 1e9 ? [d.value / 1e9, 'G'] : d.value >= 1e6 ? [d.value / 1e6, 'M'] : d.value >= 1e3 ? [d.value / 1e3, 'K'] : [d.value, '']
    return `${v.toFixed(3)} ${p}/sec`
  }
  if (d.unit.startsWith('of all')) return `${d.value.toFixed(2)}% ${d.unit}`
  return `${d.value.toFixed(3)} ${d.unit}`
}

/** perf stat's table: ` Performance counter stats for …`, one line per event, the time elapsed, why events did not open. */
export function statTable(title: string, out: Row[], elapsedNs: number): string {
  const lines = ['', ` Performance counter stats for ${title}:`, '']
  for (const r of out) {
    const value = r.value === null ? '<not supported>' : r.unit === 'msec' ? `${fmtNumber(r.value, 2)} msec` : `${fmtNumber(r.value, 0)}     `
    let line = `${value.padStart(22)}      ${r.event.padEnd(32)}`
    if (r.derived) line += ` #  ${fmtDerived(r.derived)}`
    if (r.runningPercent !== null && r.runningPercent < 100) line += `  (${r.runningPercent.toFixed(2)}%)`
    lines.push(line.trimEnd())
  }
  lines.push('', `${(elapsedNs / 1e9).toFixed(9).padStart(22)} seconds time elapsed`, '')
  // One line per distinct reason, like "cycles, instructions: ENOENT ... (hint)".
  const reasons = new Map<string, string[]>()
  for (const r of out) {
    if (!r.error) continue
    const reason = r.error.replace(/ for \S+: /, ': ')
    reasons.set(reason, [...(reasons.get(reason) ?? []), r.event])
  }
  for (const [reason, evs] of reasons) lines.push(`${evs.join(', ')}: ${reason}`)
  return lines.join('\n')
}

/** `--per-thread`: one line per thread (tid, name, each event's count). */
export function perThreadTable(events: readonly string[], threads: readonly { tid: number; name: string; counts: Record<string, number> }[]): string {
  const lines = [`${'tid'.padStart(8)}  ${'name'.padEnd(16)}${events.map((e) => e.padStart(18)).join('')}`]
  for (const t of threads) lines.push(`${String(t.tid).padStart(8)}  ${t.name.padEnd(16)}${events.map((e) => fmtNumber(t.counts[e], 0).padStart(18)).join('')}`)
  return lines.join('\n')
}

/** perf list's name of each kind of event. */
const KIND_NAME: Record<EventInfo['kind'], string> = {
  hardware: 'Hardware event',
  software: 'Software event',
  cache: 'Hardware cache event',
  tracepoint: 'Tracepoint event',
  pmu: 'Kernel PMU event',
  raw: 'Raw hardware event descriptor',
  breakpoint: 'Hardware breakpoint',
}

/** perf list's layout: `  name OR alias   [Kind]`, marked where the event does not open here. */
export function listLines(events: readonly EventInfo[]): string {
  const lines: string[] = []
  for (const e of events) {
    const names = [e.name, ...e.aliases].join(' OR ')
    const mark = e.opens === false ? '  (does not open here)' : ''
    lines.push(`  ${names.padEnd(48)} [${KIND_NAME[e.kind]}]${mark}`)
  }
  if (events.some((e) => e.opens === false)) lines.push('', "Events marked 'does not open here': run 'perf-event-open doctor' for the reason and the fix.")
  return lines.join('\n')
}

/** An error on one line: `CODE: message (hint)` for a PerfEventError. */
export function errorText(e: unknown): string {
  if (e instanceof PerfEventError) return `${e.code}: ${e.message.split('\n')[0]}${e.hint ? ` (${e.hint})` : ''}`
  return e instanceof Error ? e.message : String(e)
}

