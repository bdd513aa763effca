#!/usr/bin/env node
/**
 * `npx perf-event-open <command>`: stat, record, list, doctor.
 * @packageDocumentation
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { constants } from 'node:os'
import { basename, delimiter, extname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Counter } from '../handles/counter'
import { EXIT, EXIT_CODES_TEXT, UsageError, checkDashDash, emptyListReason, packageVersion } from './conventions'
import { doctor, formatDoctor } from '../discovery/doctor'
import { PerfEventError } from '../errors/errors'
import { resolveEvent, unitOf, type CountUnit, type ResolvedEvent } from '../events/events'
import { listEvents, type EventInfo } from '../discovery/list'
import { ProcessCounter } from '../handles/process'
import { profileCommand } from '../profile/command'
import { symbolizer } from '../profile/symbolizer'
import type { Profile } from '../profile/model'
import { Profiler, type ProfileOptions } from '../profile/profiler'
import { scale } from '../handles/stat'

const USAGE = `Usage: perf-event-open <command> [options]

Commands:
  stat [-e ev,...] [--json] [-o file] -- cmd [args...]   count a command (from its exec) and its children
  stat [-e ev,...] [--json] [-o file] [--per-thread] -p pid
                                                         count every thread of a running process until Ctrl-C or its exit
  list [filter] [--json]                                 events of this machine and whether they open here
  doctor [--json]                                        what works here, and the exact fix for what does not
  record [-e ev] [-F freq | -c period] [-o out] -- cmd [args...]
                                                         profile a command (every thread and child) from its exec to its exit
  record [-e ev] [-F freq | -c period] [-o out] -p pid   profile every thread of a running process until Ctrl-C or its exit
  --version, -V                                          print the version

Events use the library's grammar: task-clock, page-faults, instructions:u, L1-dcache-load-misses,
syscalls:sys_enter_write, msr/tsc/ ... ('perf-event-open list' shows them).
Tables go to stderr (the command's output stays alone on stdout); --json goes to stdout (or -o file).
${EXIT_CODES_TEXT}
'perf-event-open record --help' describes record's options.`

/** Events of `stat` without `-e`: perf stat's defaults. */
const DEFAULT_EVENTS = ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'cycles', 'instructions', 'branches', 'branch-misses']


/** One counted event, as printed and as written by --json. */
interface Row {
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

function rows(labels: readonly string[], values: Map<string, { count: bigint; scaled: bigint; runningPercent: number } | { error: string }>, elapsedNs: number): Row[] {
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

function printStat(title: string, out: Row[], elapsedNs: number): string {
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

function parseEvents(e: string | undefined): string[] {
  if (e === undefined) return DEFAULT_EVENTS
  // Commas separate events, except inside a PMU's /terms/.
  const events: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of e) {
    if (ch === '/') depth ^= 1
    if (ch === ',' && depth === 0) {
      events.push(cur)
      cur = ''
    } else cur += ch
  }
  events.push(cur)
  const list = events.map((s) => s.trim()).filter(Boolean)
  if (list.length === 0) throw new UsageError('Expected event names for -e but received an empty list')
  return list
}

function errorText(e: unknown): string {
  if (e instanceof PerfEventError) return `${e.code}: ${e.message.split('\n')[0]}${e.hint ? ` (${e.hint})` : ''}`
  return e instanceof Error ? e.message : String(e)
}

function emit(text: string, output: string | undefined, stream: NodeJS.WritableStream = process.stderr): void {
  if (output) writeFileSync(output, text.endsWith('\n') ? text : `${text}\n`)
  else stream.write(text.endsWith('\n') ? text : `${text}\n`)
}

async function statCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      event: { type: 'string', short: 'e', multiple: true },
      pid: { type: 'string', short: 'p' },
      json: { type: 'boolean', short: 'j' },
      output: { type: 'string', short: 'o' },
      'per-thread': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const events = values.event ? values.event.flatMap((e) => parseEvents(e)) : DEFAULT_EVENTS
  const explicit = values.event !== undefined
  if (values.pid !== undefined) {
    if (positionals.length) throw new UsageError('Expected either -p pid or -- cmd, not both')
    const pid = Number(values.pid)
    if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`Expected a process id for -p but received ${JSON.stringify(values.pid)}`)
    return statPid(pid, events, explicit, values)
  }
  if (positionals.length === 0) throw new UsageError('Expected a command after -- (or -p pid)')
  return statCmd(positionals, events, explicit, values)
}

interface StatFlags {
  json?: boolean
  output?: string
  'per-thread'?: boolean
}

function report(title: string, command: string[] | undefined, pid: number, labels: string[], values: Parameters<typeof rows>[1], elapsedNs: number, exitCode: number | null, flags: StatFlags, extra?: object): void {
  const out = rows(labels, values, elapsedNs)
  // Machine output on stdout (for | jq); the human table on stderr, like perf stat.
  if (flags.json) emit(JSON.stringify({ command, pid, exitCode, elapsedSeconds: elapsedNs / 1e9, events: out, ...extra }), flags.output, process.stdout)
  else emit(printStat(title, out, elapsedNs), flags.output)
}

/** Opens each event, or records why not: default events that do not open are shown as not supported, like perf. */
function openEach<T>(events: string[], explicit: boolean, open: (ev: string) => T): { opened: Map<string, T>; errors: Map<string, string>; renamed: Map<string, string> } {
  const renamed = new Map<string, string>()
  const opened = new Map<string, T>()
  const errors = new Map<string, string>()
  for (const ev of events) {
    try {
      // Like perf stat, where the kernel refuses counting itself (perf_event_paranoid 2 without
      // privilege) the library counts user space only and says so in the label (lib/handles/userspace.ts).
      const o = open(ev)
      opened.set(ev, o)
      const label = (o as { label?: unknown }).label
      if (typeof label === 'string' && label !== ev) renamed.set(ev, label)
    } catch (e) {
      // An explicit unknown name or bad syntax is a usage error; a refusal by the kernel is reported per event.
      if (explicit && (!(e instanceof PerfEventError) || e.code === 'ERR_UNKNOWN_EVENT')) {
        for (const o of opened.values()) (o as { close(): void }).close()
        throw e
      }
      errors.set(ev, errorText(e))
    }
  }
  if (opened.size === 0) {
    throw new PerfEventError(`None of the events opened: ${[...errors].map(([k, v]) => `${k}: ${v}`).join('; ')}`, 'ERR_PERF', {
      hint: "Run 'perf-event-open doctor' to see what works here.",
    })
  }
  return { opened, errors, renamed }
}

type Values = Parameters<typeof rows>[1]

/** Names events by what was opened (`task-clock:u` where the kernel refused kernel counting). */
function relabel(events: string[], values: Values, renamed: Map<string, string>): [string[], Values] {
  if (renamed.size === 0) return [events, values]
  const out: Values = new Map()
  for (const ev of events) out.set(renamed.get(ev) ?? ev, values.get(ev)!)
  return [events.map((e) => renamed.get(e) ?? e), out]
}

async function statCmd(cmd: string[], events: string[], explicit: boolean, flags: StatFlags): Promise<number> {
  // The command starts as a shell that waits on fd 3, so that the counters are open (with
  // enable-on-exec) before it execs the command: counting starts at the command's first instruction.
  const child = spawn('/bin/sh', ['-c', 'read _ <&3; exec 3<&-; exec "$@"', 'perf-event-open', ...cmd], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve))
  const pid = child.pid
  if (pid === undefined) throw await spawnError
  let counters: Map<string, Counter>
  let errors: Map<string, string>
  let renamed: Map<string, string>
  try {
    ;({ opened: counters, errors, renamed } = openEach(events, explicit, (ev) => new Counter(ev, { pid }, { inherit: 'newChild', onExecve: 'enable' })))
  } catch (e) {
    child.kill('SIGKILL')
    await exited
    throw e
  }
  // Ctrl-C goes to the command (same process group); the counts are printed when it exits.
  const ignore = () => {}
  process.on('SIGINT', ignore)
  process.on('SIGTERM', ignore)
  const t0 = process.hrtime.bigint()
  ;(child.stdio[3] as NodeJS.WritableStream).end('go\n')
  const { code, signal } = await exited
  const elapsedNs = Number(process.hrtime.bigint() - t0)
  process.off('SIGINT', ignore)
  process.off('SIGTERM', ignore)
  const values = new Map<string, { count: bigint; scaled: bigint; runningPercent: number } | { error: string }>()
  for (const ev of events) {
    const c = counters.get(ev)
    if (!c) {
      values.set(ev, { error: errors.get(ev)! })
      continue
    }
    const s = c.stat()
    c.close()
    const running = s.timeEnabled && s.timeEnabled > 0n ? Number(((s.timeRunning ?? 0n) * 10000n) / s.timeEnabled) / 100 : 100
    values.set(ev, { count: s.count, scaled: scale(s.count, s.timeEnabled, s.timeRunning), runningPercent: running })
  }
  const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)
  report(`'${cmd.join(' ')}'`, cmd, pid, ...relabel(events, values, renamed), elapsedNs, exitCode, flags)
  return exitCode
}

/** Resolves on Ctrl-C (SIGINT) or SIGTERM, or once process `pid` is gone (polled every 100 ms). */
function untilStopOrExit(pid: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearInterval(timer)
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    const timer = setInterval(() => {
      try {
        process.kill(pid, 0)
      } catch {
        done()
      }
    }, 100)
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}

async function statPid(pid: number, events: string[], explicit: boolean, flags: StatFlags): Promise<number> {
  const usable: string[] = []
  const { errors, renamed } = openEach(events, explicit, (ev) => {
    // Probe each event on the process first, so that one refused event does not stop the others.
    const probe = new ProcessCounter(ev, pid)
    probe.close()
    usable.push(probe.labels[0])
    return { close() {}, label: probe.labels[0] }
  })
  const pc = new ProcessCounter(usable, pid)
  const t0 = process.hrtime.bigint()
  pc.enable()
  process.stderr.write(`Counting ${pc.tids.length} threads of process ${pid} (and threads they start); Ctrl-C to stop.\n`)
  await untilStopOrExit(pid)
  pc.disable()
  const elapsedNs = Number(process.hrtime.bigint() - t0)
  const s = pc.stat()
  pc.close()
  const values = new Map<string, { count: bigint; scaled: bigint; runningPercent: number } | { error: string }>()
  for (const ev of events) {
    const i = usable.indexOf(renamed.get(ev) ?? ev)
    if (i < 0) values.set(ev, { error: errors.get(ev)! })
    else values.set(ev, { count: s.events[i].count, scaled: s.events[i].scaled, runningPercent: s.events[i].runningPercent })
  }
  const threads = s.threads.map((t) => ({ tid: t.tid, name: t.name, exited: t.exited, counts: Object.fromEntries(usable.map((ev, i) => [ev, Number(t.counts[i])])) }))
  if (flags['per-thread'] && !flags.json) {
    const lines = [`${'tid'.padStart(8)}  ${'name'.padEnd(16)}${usable.map((e) => e.padStart(18)).join('')}`]
    for (const t of threads) lines.push(`${String(t.tid).padStart(8)}  ${t.name.padEnd(16)}${usable.map((e) => fmtNumber(t.counts[e], 0).padStart(18)).join('')}`)
    emit(lines.join('\n'), undefined)
  }
  report(`process id '${pid}'`, undefined, pid, ...relabel(events, values, renamed), elapsedNs, null, flags, flags.json && flags['per-thread'] ? { threads } : undefined)
  return 0
}

function listCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', short: 'j' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (positionals.length > 1) throw new UsageError(`Expected at most one filter but received ${positionals.length}`)
  const events = listEvents(positionals[0])
  if (events.length === 0) {
    // An empty result says why (tracefs unreadable, not mounted, or the filter matches nothing).
    if (values.json) process.stdout.write('[]\n')
    process.stderr.write(`perf-event-open: ${emptyListReason(positionals[0])}\n`)
    return EXIT.failed
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(events)}\n`)
    return 0
  }
  const kindName: Record<EventInfo['kind'], string> = {
    hardware: 'Hardware event',
    software: 'Software event',
    cache: 'Hardware cache event',
    tracepoint: 'Tracepoint event',
    pmu: 'Kernel PMU event',
    raw: 'Raw hardware event descriptor',
    breakpoint: 'Hardware breakpoint',
  }
  const lines: string[] = []
  for (const e of events) {
    const names = [e.name, ...e.aliases].join(' OR ')
    const mark = e.opens === false ? '  (does not open here)' : ''
    lines.push(`  ${names.padEnd(48)} [${kindName[e.kind]}]${mark}`)
  }
  if (events.some((e) => e.opens === false)) lines.push('', "Events marked 'does not open here': run 'perf-event-open doctor' for the reason and the fix.")
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

function doctorCommand(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', short: 'j' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const report = doctor()
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatDoctor(report)}\n`)
  return report.checks.some((c) => c.id === 'syscall' && c.status === 'fail') ? 1 : 0
}

const DEFAULT_RECORD_OUTPUT = 'profile.pb.gz'

const RECORD_USAGE = `Usage: perf-event-open record [options] -- cmd [args...]
       perf-event-open record [options] -p pid

Samples call stacks of one event and writes a symbolized profile: JS functions (from V8's perf map),
native code (ELF/DWARF) and, where allowed, kernel frames. With -- cmd the whole command is profiled,
from its exec to its exit, with every thread and child it starts. A Node command (node, the path of
a node binary, or a script whose #! line runs node) is started with --perf-basic-prof and
--interpreted-frames-native-stack so that its JS frames get names; NODE_OPTIONS carries the same
flags to Node programs it starts (npm, npx, shell scripts).

Options:
  -e, --event ev        event to sample (default cpu-clock): page-faults, context-switches,
                        syscalls:sys_enter_write, cycles ... ('perf-event-open list' shows them)
  -F, --freq n          samples per second (default 999 for clocks and hardware events)
  -c, --count n         one sample every n events (default 1 for other software events and tracepoints)
  -o, --output file     where to write the profile (default ${DEFAULT_RECORD_OUTPUT}); repeat -o for several formats
                        from the one run; the extension picks the format:
                          .pb.gz, .pprof       pprof (go tool pprof, Pyroscope, Parca, Grafana)
                          .json, .json.gz      Firefox Profiler (profiler.firefox.com)
                          .cpuprofile          Chrome/V8 (DevTools, VS Code, speedscope)
                          .folded              folded stacks (flamegraph.pl, inferno, speedscope)
                          .svg                 flame graph (open it in a browser)
  --kernel, --no-kernel kernel frames on or off (default: on where allowed: root, CAP_PERFMON or
                        perf_event_paranoid <= 1)
  -p, --pid pid         profile a running process (all its threads, and threads it starts later)
                        until Ctrl-C or its exit
  -n, --top n           rows of the printed table of hottest functions (default 15)
  -h, --help            this text

The table (self and total weight, in ns for the clocks and events otherwise) and the file written go
to stderr; the command's own output is left alone.
${EXIT_CODES_TEXT}`

/** Output extensions `Profile.write` knows, and the format each names. */
const FORMATS: [string, string][] = [
  ['.pb.gz', 'pprof'],
  ['.pprof', 'pprof'],
  ['.json.gz', 'Firefox Profiler, gzipped'],
  ['.json', 'Firefox Profiler'],
  ['.cpuprofile', 'Chrome/V8 .cpuprofile'],
  ['.folded', 'folded stacks'],
  ['.svg', 'flame graph SVG'],
]
/** Flags that make V8 name JS frames in /tmp/perf-<pid>.map (interpreted ones too). */
const NODE_PERF_FLAGS = ['--perf-basic-prof', '--interpreted-frames-native-stack']

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`Expected a positive integer for ${flag} but received ${JSON.stringify(v)}`)
  return n
}

/** The path `cmd` runs: itself when it has a slash, else the first executable of that name on PATH. */
function which(cmd: string): string | undefined {
  const candidates = cmd.includes('/') ? [resolve(cmd)] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd))
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c
    } catch {
      // not there
    }
  }
  return undefined
}

/** Whether `path` is a Node binary: named node (node, nodejs, node22…) or the same file as this Node. */
function isNodeBinary(path: string): boolean {
  if (/^node(js)?[\d.-]*$/.test(basename(path))) return true
  try {
    return realpathSync(path) === realpathSync(process.execPath)
  } catch {
    return false
  }
}

/** The interpreter of a script's `#!` line (`#!/usr/bin/env node`, `#!/usr/bin/env -S node --flag`, `#!/opt/node/bin/node`). */
function shebang(path: string): string[] | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const buf = Buffer.alloc(256)
    const n = readSync(fd, buf, 0, buf.length, 0)
    const line = buf.subarray(0, n).toString('utf8').split('\n')[0]
    if (!line.startsWith('#!')) return undefined
    const words = line.slice(2).trim().split(/\s+/)
    if (basename(words[0]) === 'env') {
      words.shift()
      while (words[0]?.startsWith('-')) words.shift() // env -S
    }
    return words.length ? words : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The argv that starts `cmd` with V8's perf map on: flags after node, or, for a script whose `#!`
 * runs node, node with the flags, the script's own interpreter flags and the script. Other commands
 * run as given. `node` is true when the flags were added.
 */
export function nodeCommand(cmd: string[]): { argv: string[]; node: boolean } {
  const [file, ...args] = cmd
  const add = (flags: string[]) => [...NODE_PERF_FLAGS.filter((f) => !flags.includes(f)), ...flags]
  const path = which(file)
  if (isNodeBinary(file) || (path !== undefined && isNodeBinary(path))) return { argv: [file, ...add(args)], node: true }
  const interp = path === undefined ? undefined : shebang(path)
  if (interp && isNodeBinary(interp[0])) return { argv: [interp[0], ...add(interp.slice(1)), path!, ...args], node: true }
  return { argv: cmd, node: false }
}

/** A usage error (exit code 2) for what the user typed wrong: option values, unknown events. */
function asUsage(e: unknown): unknown {
  if (e instanceof TypeError || e instanceof RangeError) return new UsageError(e.message)
  if (e instanceof PerfEventError && e.code === 'ERR_UNKNOWN_EVENT') return new UsageError(errorText(e).replace(/^ERR_UNKNOWN_EVENT: /, ''))
  return e
}

function exitCodeOf(code: number | null | undefined, signal: string | null | undefined): number {
  return code ?? 128 + (signal ? (constants.signals[signal as NodeJS.Signals] ?? 0) : 0)
}

async function recordCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      event: { type: 'string', short: 'e' },
      freq: { type: 'string', short: 'F' },
      count: { type: 'string', short: 'c' },
      output: { type: 'string', short: 'o', multiple: true },
      kernel: { type: 'boolean' },
      'no-kernel': { type: 'boolean' },
      pid: { type: 'string', short: 'p' },
      top: { type: 'string', short: 'n' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(`${RECORD_USAGE}\n`)
    return 0
  }
  // Several -o write several files (one per format) from the one profile.
  const outputs = [...new Set((values.output ?? [DEFAULT_RECORD_OUTPUT]).map((o) => resolve(o)))].map((output, i) => {
    const format = FORMATS.find(([ext]) => output.endsWith(ext) && output.length > ext.length)
    if (!format)
      throw new UsageError(`Expected an output file ending in ${FORMATS.map(([e]) => e).join(', ')} for -o but received ${JSON.stringify(values.output?.[i] ?? DEFAULT_RECORD_OUTPUT)} (${extname(output) || 'no extension'})`)
    return { output, format }
  })
  if (values.kernel && values['no-kernel']) throw new UsageError('Expected one of --kernel or --no-kernel but received both')
  const options: ProfileOptions = {}
  if (values.event !== undefined) options.event = values.event
  const freq = positiveInt(values.freq, '-F')
  const period = positiveInt(values.count, '-c')
  if (freq !== undefined && period !== undefined) throw new UsageError('Expected one of -F freq or -c period but received both')
  if (freq !== undefined) options.freq = freq
  if (period !== undefined) options.period = period
  if (values.kernel) options.kernel = true
  if (values['no-kernel']) options.kernel = false
  const top = positiveInt(values.top, '-n') ?? 15
  const pid = positiveInt(values.pid, '-p')
  if (pid !== undefined && positionals.length) throw new UsageError('Expected either -p pid or -- cmd, not both')
  if (pid === undefined && positionals.length === 0) throw new UsageError('Expected a command after -- (or -p pid)')
  // The options (event name, rate) are checked before anything starts.
  try {
    new Profiler(pid === undefined ? options : { ...options, scope: 'process', pid })
  } catch (e) {
    throw asUsage(e)
  }
  // The symbolizer is needed once the command has run: check it first, not after a long run (ERR_SYMBOLIZER_MISSING, exit 1).
  symbolizer()
  let profile: Profile
  let exitCode = 0
  let title: string
  if (pid !== undefined) {
    profile = await recordPid(pid, options)
    title = `process ${pid}`
  } else {
    const { argv: cmd } = nodeCommand(positionals)
    // Node programs the command starts (npm, npx, scripts) name their JS frames too.
    const nodeOptions = [process.env.NODE_OPTIONS ?? '', ...NODE_PERF_FLAGS.filter((f) => !(process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(f))].join(' ').trim()
    const env = { ...process.env, NODE_OPTIONS: nodeOptions }
    // SIGINT/SIGTERM/SIGHUP go to the command (Ctrl-C reaches it anyway: same process group); the
    // profile is written when it exits; a second signal exits at once.
    try {
      profile = await profileCommand(cmd[0], cmd.slice(1), { ...options, env, forwardSignals: true })
    } catch (e) {
      if (e instanceof PerfEventError && (e.code === 'ENOENT' || e.code === 'EACCES') && e.syscall === 'execve') {
        process.stderr.write(`perf-event-open: ${e.message}\n`) // the message ends with its hint
        return e.code === 'ENOENT' ? EXIT.notFound : EXIT.notExecutable
      }
      throw asUsage(e)
    }
    exitCode = exitCodeOf(profile.meta.exitCode, profile.meta.signal)
    title = `'${cmd.join(' ')}'`
  }
  for (const { output } of outputs) await profile.write(output)
  const lines = ['', ` Profile of ${title}:`, '', profile.top(top).table, '']
  for (const w of profile.warnings) lines.push(`warning: ${w}`)
  const seconds = ((profile.meta.endTime - profile.meta.startTime) / 1000).toFixed(3)
  lines.push(`Wrote ${outputs.map(({ output, format }) => `${output} (${format[1]})`).join(', ')}: ${profile.sampleCount} samples of ${profile.event} on ${profile.threads.length} threads, ${profile.lost.count} lost, over ${seconds} s.`)
  process.stderr.write(`${lines.join('\n')}\n`)
  return exitCode
}

/** Profiles every thread of a running process until Ctrl-C (SIGINT/SIGTERM) or its exit. */
async function recordPid(pid: number, options: ProfileOptions): Promise<Profile> {
  const profiler = new Profiler({ ...options, scope: 'process', pid })
  profiler.start()
  process.stderr.write(`Profiling every thread of process ${pid} (and threads it starts); Ctrl-C to stop.\n`)
  await untilStopOrExit(pid)
  return profiler.stop()
}

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  stat: statCommand,
  list: listCommand,
  doctor: doctorCommand,
  record: recordCommand,
}

/** The package's own argument errors ("Expected … but received …", "Unknown …"), not a TypeError from a bug. */
function isArgumentError(e: unknown): boolean {
  return (e instanceof TypeError || e instanceof RangeError) && /^(Expected|Unknown) /.test(e.message)
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (command === '-V' || command === '--version' || command === 'version') {
    process.stdout.write(`perf-event-open ${packageVersion()}\n`)
    return EXIT.ok
  }
  if (command === undefined) {
    // Misuse: the usage goes to stderr (stdout stays for what was asked for), exit 2.
    process.stderr.write(`perf-event-open: Expected a command (stat, record, list or doctor)\n\n${USAGE}\n`)
    return EXIT.usage
  }
  const run = COMMANDS[command]
  try {
    if (!run) throw new UsageError(`Unknown command ${JSON.stringify(command)}: expected stat, record, list or doctor`)
    checkDashDash(command, rest)
    return await run(rest)
  } catch (e) {
    // Every subcommand: what was typed wrong (an unknown event, a bad option value) is a usage error, exit 2.
    const code = (e as { code?: string }).code
    if (e instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS') || code === 'ERR_UNKNOWN_EVENT' || isArgumentError(e)) {
      const usage = command === 'record' ? "Run 'perf-event-open record --help' for its options." : USAGE
      process.stderr.write(`perf-event-open: ${(e as Error).message}\n\n${usage}\n`)
      return 2
    }
    process.stderr.write(`perf-event-open: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code
  })
}
