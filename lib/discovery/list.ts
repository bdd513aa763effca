import { Counter } from '../handles/counter'
import { PerfEventError, typeError } from '../errors/errors'
import { knownEventNames, resolveEvent } from '../events/events'
import { isDirectory, listDir, readText as read } from '../system/files'
import { PMU_ROOT, TRACEFS_ROOTS } from '../system/kernel'

/** Kinds of events `listEvents` reports. */
export type EventKind = 'hardware' | 'software' | 'cache' | 'tracepoint' | 'pmu' | 'raw' | 'breakpoint'

/** One event `listEvents` found. */
export interface EventInfo {
  /** The event string, as `new Counter(name)` and the CLI's `-e` take it (a pattern for `raw` and `breakpoint`). */
  name: string
  /** Other spellings of the same event. */
  aliases: string[]
  kind: EventKind
  /** `hardware`, `software`, `cache`, the tracepoint's subsystem, or the PMU's name. */
  category: string
  description: string
  /**
   * Whether `new Counter(name)` opened here (then it was closed at once), for the calling thread
   * with user space only where the kernel needs it. `undefined`: not tried (patterns; tracepoints
   * beyond the first of a listing unless `probe: 'all'`, since each tracepoint open takes tens of ms).
   */
  opens: boolean | undefined
  /** Why it did not open: the error code and hint. */
  reason?: string
  /** For PMU events: the PMU's format terms (`event`, `umask`…) with their bit ranges. */
  formats?: Record<string, string>
}

/** Options of `listEvents`. */
export interface ListOptions {
  /**
   * Try opening each event (default `true`). Tracepoints are tried one per listing (the first) and
   * the others take its answer, unless `'all'` (slow: the kernel registers each probe).
   */
  probe?: boolean | 'all'
}

const HW_DESC: Record<string, string> = {
  cycles: 'CPU cycles (PERF_COUNT_HW_CPU_CYCLES); affected by frequency scaling',
  instructions: 'Retired instructions (PERF_COUNT_HW_INSTRUCTIONS)',
  'cache-references': 'Cache accesses, usually last-level (PERF_COUNT_HW_CACHE_REFERENCES)',
  'cache-misses': 'Cache misses, usually last-level (PERF_COUNT_HW_CACHE_MISSES)',
  branches: 'Retired branch instructions (PERF_COUNT_HW_BRANCH_INSTRUCTIONS)',
  'branch-misses': 'Mispredicted branches (PERF_COUNT_HW_BRANCH_MISSES)',
  'bus-cycles': 'Bus cycles (PERF_COUNT_HW_BUS_CYCLES)',
  'stalled-cycles-frontend': 'Cycles stalled in the front end (PERF_COUNT_HW_STALLED_CYCLES_FRONTEND)',
  'stalled-cycles-backend': 'Cycles stalled in the back end (PERF_COUNT_HW_STALLED_CYCLES_BACKEND)',
  'ref-cycles': 'Reference cycles, not affected by frequency scaling (PERF_COUNT_HW_REF_CPU_CYCLES)',
}

const SW_DESC: Record<string, string> = {
  'cpu-clock': 'CPU clock, a high-resolution per-CPU timer (ns)',
  'task-clock': 'CPU time of the task (ns)',
  'page-faults': 'Page faults',
  'minor-faults': 'Minor page faults (no I/O)',
  'major-faults': 'Major page faults (I/O needed)',
  'emulation-faults': 'Instructions emulated by the kernel',
  'alignment-faults': 'Alignment faults fixed up by the kernel',
  'context-switches': 'Context switches',
  'cgroup-switches': 'Context switches to a task of another cgroup (Linux 5.13+)',
  dummy: 'Counts nothing; carries extra records (mmap, comm…) for sampling',
  'bpf-output': 'Output channel of BPF programs (Linux 4.4+)',
  'cpu-migrations': 'Migrations of the task to another CPU',
}

/** Names grouped by the event they resolve to: first is the name, the rest aliases. */
function grouped(names: string[]): string[][] {
  const by = new Map<string, string[]>()
  for (const n of names) {
    const key = JSON.stringify(resolveEvent(n).native)
    const g = by.get(key)
    if (g) g.push(n)
    else by.set(key, [n])
  }
  return [...by.values()]
}

/** A directory's entries in order. */
function list(dir: string): string[] {
  return listDir(dir).sort()
}

function tracefs(): string | undefined {
  return TRACEFS_ROOTS.find((r) => list(`${r}/events`).length > 0)
}

function tryOpen(name: string): { opens: boolean; reason?: string } {
  const attempt = (ev: string) => {
    new Counter(ev).close()
  }
  try {
    attempt(name)
    return { opens: true }
  } catch (first) {
    let e = first
    // perf_event_paranoid 2: the kernel refuses counting itself, not the event; retry user-only.
    // If that fails too, its error is the one about the event (e.g. ENOENT: the PMU lacks it).
    if (e instanceof PerfEventError && (e.code === 'EACCES' || e.code === 'EPERM') && !name.includes(':') && !name.endsWith('/')) {
      try {
        attempt(`${name}:u`)
        return { opens: true }
      } catch (retry) {
        e = retry
      }
    }
    if (e instanceof PerfEventError) return { opens: false, reason: `${e.code}: ${e.hint ?? e.message}` }
    return { opens: false, reason: String(e) }
  }
}

const KINDS: readonly EventKind[] = ['hardware', 'software', 'cache', 'tracepoint', 'pmu', 'raw', 'breakpoint']

/** A filter: a kind (`cache`) selects that kind; `*` and `?` are wildcards; otherwise a case-insensitive substring of name, alias or category. */
function matcher(filter: string | RegExp | undefined): (e: EventInfo) => boolean {
  if (filter === undefined) return () => true
  let re: RegExp
  if (filter instanceof RegExp) re = filter
  else if (/[*?]/.test(filter)) re = new RegExp(`^${filter.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')
  else {
    const f = filter.toLowerCase()
    if (KINDS.includes(f as EventKind)) return (e) => e.kind === f
    return (e) => e.category.toLowerCase() === f || [e.name, ...e.aliases].some((n) => n.toLowerCase().includes(f))
  }
  return (e) => [e.name, ...e.aliases, e.kind, e.category].some((n) => re.test(n))
}

/**
 * The events of this machine, in the grammar the event strings take: generic hardware, software and
 * cache events, tracepoints (from tracefs, by subsystem), events of dynamic PMUs (sysfs `events/`,
 * with the PMU's `format/` terms), and the raw and breakpoint patterns. Like `perf list`.
 *
 * @param filter a kind (`'cache'`, `'tracepoint'`…) selects that kind; `'syscalls'` (a substring of names,
 *   aliases or categories), `'*fault*'` (a glob), or a RegExp (names, aliases, kind, category).
 * @param options `probe`: try opening each event (default true).
 */
export function listEvents(filter?: string | RegExp, options: ListOptions = {}): EventInfo[] {
  if (filter !== undefined && typeof filter !== 'string' && !(filter instanceof RegExp)) throw typeError('a string or RegExp', 'filter', filter)
  if (typeof options !== 'object' || options === null) throw typeError('an options object', 'options', options)
  const probe = options.probe ?? true
  if (typeof probe !== 'boolean' && probe !== 'all') throw typeError("true, false or 'all'", 'options.probe', probe)
  const match = matcher(filter)
  const out: EventInfo[] = []
  const known = knownEventNames()
  const add = (e: Omit<EventInfo, 'opens'>, tryIt: boolean) => {
    const info: EventInfo = { ...e, opens: undefined }
    if (!match(info)) return
    if (tryIt && probe) Object.assign(info, tryOpen(info.name))
    out.push(info)
  }
  for (const [name, ...aliases] of grouped(known.hardware))
    add({ name, aliases, kind: 'hardware', category: 'hardware', description: HW_DESC[name] ?? 'Generic hardware event' }, true)
  for (const [name, ...aliases] of grouped(known.software))
    add({ name, aliases, kind: 'software', category: 'software', description: SW_DESC[name] ?? 'Software event' }, true)
  for (const [name, ...aliases] of grouped(known.cache)) {
    const [, cache, op, miss] = /^(.*?)-(loads?|stores?|prefetch(?:es)?)(-misses)?$/.exec(name) ?? []
    add({ name, aliases, kind: 'cache', category: 'cache', description: `${cache} ${op?.startsWith('prefetch') ? 'prefetch' : op?.startsWith('load') ? 'load' : 'store'} ${miss ? 'misses' : 'accesses'} (PERF_TYPE_HW_CACHE)` }, true)
  }
  add({ name: 'rNNN', aliases: [], kind: 'raw', category: 'raw', description: 'Raw PMU event: config in hex (see the CPU manual), e.g. r003c' }, false)
  add({ name: 'mem:ADDR[/LEN][:r|w|rw|x]', aliases: [], kind: 'breakpoint', category: 'breakpoint', description: 'Hardware breakpoint/watchpoint at an address' }, false)

  // Dynamic PMUs with event aliases (software/tracepoint/breakpoint/probes are listed above or need other grammar).
  for (const pmu of list(PMU_ROOT)) {
    const dir = `${PMU_ROOT}/${pmu}`
    const formats: Record<string, string> = {}
    for (const f of list(`${dir}/format`)) formats[f] = read(`${dir}/format/${f}`) ?? ''
    for (const ev of list(`${dir}/events`)) {
      if (ev.includes('.')) continue // .unit, .scale, .per-pkg, .snapshot
      const alias = read(`${dir}/events/${ev}`) ?? ''
      const unit = read(`${dir}/events/${ev}.unit`)
      const scale = read(`${dir}/events/${ev}.scale`)
      const extra = [unit && `unit ${unit}`, scale && `scale ${scale}`].filter(Boolean).join(', ')
      add({ name: `${pmu}/${ev}/`, aliases: [], kind: 'pmu', category: pmu, description: `${alias}${extra ? ` (${extra})` : ''}`, formats }, true)
    }
  }

  // Tracepoints: one open tried per listing (each takes tens of ms in the kernel), the rest take its answer.
  const root = tracefs()
  if (root) {
    let sample: { opens: boolean; reason?: string } | undefined
    for (const sys of list(`${root}/events`)) {
      const sysDir = `${root}/events/${sys}`
      if (!isDirectory(sysDir)) continue
      for (const ev of list(sysDir)) {
        if (read(`${sysDir}/${ev}/id`) === undefined) continue
        const info: EventInfo = { name: `${sys}:${ev}`, aliases: [], kind: 'tracepoint', category: sys, description: 'Tracepoint event', opens: undefined }
        if (!match(info)) continue
        const fields = (read(`${sysDir}/${ev}/format`) ?? '')
          .split('\n')
          .map((l) => /field:.*?([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?;/.exec(l)?.[1])
          .filter((f): f is string => f !== undefined && !f.startsWith('common_'))
        if (fields.length) info.description = `Tracepoint event; fields: ${fields.join(', ')}`
        if (probe === 'all') Object.assign(info, tryOpen(info.name))
        else if (probe) {
          sample ??= tryOpen(info.name)
          info.opens = sample.opens
          if (sample.reason) info.reason = sample.reason
        }
        out.push(info)
      }
    }
  }
  return out
}
