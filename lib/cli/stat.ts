/**
 * `perf-event-open stat`: counts a command from its exec (and every thread and child it starts), or
 * every thread of a running process, and prints perf stat's table (lib/cli/format.ts) or JSON.
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs'
import { Counter } from '../handles/counter'
import { ProcessCounter } from '../handles/process'
import { runHeld } from '../handles/spawn'
import { scale } from '../handles/stat'
import { PerfEventError } from '../errors/errors'
import { defineCommand } from './command'
import { UsageError } from './conventions'
import { errorText, perThreadTable, rows, statTable, type Readings } from './format'
import { untilStopOrExit } from './until-stop'

/** Events of `stat` without `-e`: perf stat's defaults. */
const DEFAULT_EVENTS = ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'cycles', 'instructions', 'branches', 'branch-misses']

export const stat = defineCommand({
  name: 'stat',
  usage: [
    { options: '[-e ev,...] [--json] [-o file]', operands: '-- cmd [args...]', summary: 'count a command (from its exec) and its children' },
    { options: '[-e ev,...] [--json] [-o file] [--per-thread]', operands: '-p pid', summary: 'count every thread of a running process until Ctrl-C or its exit' },
  ],
  about: `Counts events of a command from its exec (the counters are opened on a waiting shell with
enable-on-exec, like perf stat) with every thread and child it starts, or of every thread of a
running process. Without -e it counts perf stat's events:
  ${DEFAULT_EVENTS.join(', ')}
Those that do not open here print <not supported> with the reason. Ctrl-C goes to the command; the
counts print when it exits. The table goes to stderr (the command's output stays alone on stdout);
--json goes to stdout (or -o file).`,
  options: {
    event: { type: 'string', short: 'e', multiple: true, arg: 'ev,...', description: "events to count, comma-separated ('perf-event-open list' shows them)" },
    pid: { type: 'string', short: 'p', arg: 'pid', description: 'count every thread of a running process until Ctrl-C or its exit' },
    json: { type: 'boolean', short: 'j', description: 'one JSON object (events: value, unit, count, countUnit) instead of the table' },
    output: { type: 'string', short: 'o', arg: 'file', description: 'write the table or the JSON to file' },
    'per-thread': { type: 'boolean', description: 'with -p: the counts of each thread too' },
  },
  positionals: true,
  runsCommand: true,
  run(values, positionals) {
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
  },
})

/** The events of one -e: commas separate them, except inside a PMU's /terms/. */
function parseEvents(e: string | undefined): string[] {
  if (e === undefined) return DEFAULT_EVENTS
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

/** Writes `text` to `output`, or else to `stream` (stderr: the table). */
function emit(text: string, output: string | undefined, stream: NodeJS.WritableStream = process.stderr): void {
  if (output) writeFileSync(output, text.endsWith('\n') ? text : `${text}\n`)
  else stream.write(text.endsWith('\n') ? text : `${text}\n`)
}

interface StatFlags {
  json?: boolean
  output?: string
  'per-thread'?: boolean
}

function report(title: string, command: string[] | undefined, pid: number, labels: string[], values: Readings, elapsedNs: number, exitCode: number | null, flags: StatFlags, extra?: object): void {
  const out = rows(labels, values, elapsedNs)
  // Machine output on stdout (for | jq); the human table on stderr, like perf stat.
  if (flags.json) emit(JSON.stringify({ command, pid, exitCode, elapsedSeconds: elapsedNs / 1e9, events: out, ...extra }), flags.output, process.stdout)
  else emit(statTable(title, out, elapsedNs), flags.output)
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


/** Names events by what was opened (`task-clock:u` where the kernel refused kernel counting). */
function relabel(events: string[], values: Readings, renamed: Map<string, string>): [string[], Readings] {
  if (renamed.size === 0) return [events, values]
  const out: Readings = new Map()
  for (const ev of events) out.set(renamed.get(ev) ?? ev, values.get(ev)!)
  return [events.map((e) => renamed.get(e) ?? e), out]
}

async function statCmd(cmd: string[], events: string[], explicit: boolean, flags: StatFlags): Promise<number> {
  // Counters opened on the held command with enable-on-exec (lib/handles/spawn.ts): counting starts
  // at its first instruction. Ctrl-C goes to the command (same process group); the counts are
  // printed when it exits.
  const run = await runHeld(cmd[0], cmd.slice(1), { signals: 'ignore', name: 'perf-event-open' }, (pid) =>
    openEach(events, explicit, (ev) => new Counter(ev, { pid }, { inherit: 'newChild', onExecve: 'enable' })),
  )
  const { opened: counters, errors, renamed } = run.attached
  const values: Readings = new Map()
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
  report(`'${cmd.join(' ')}'`, cmd, run.pid, ...relabel(events, values, renamed), run.elapsedNs, run.exitCode, flags)
  return run.exitCode
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
  const values: Readings = new Map()
  for (const ev of events) {
    const i = usable.indexOf(renamed.get(ev) ?? ev)
    if (i < 0) values.set(ev, { error: errors.get(ev)! })
    else values.set(ev, { count: s.events[i].count, scaled: s.events[i].scaled, runningPercent: s.events[i].runningPercent })
  }
  const threads = s.threads.map((t) => ({ tid: t.tid, name: t.name, exited: t.exited, counts: Object.fromEntries(usable.map((ev, i) => [ev, Number(t.counts[i])])) }))
  if (flags['per-thread'] && !flags.json) {
    emit(perThreadTable(usable, threads), undefined)
  }
  report(`process id '${pid}'`, undefined, pid, ...relabel(events, values, renamed), elapsedNs, null, flags, flags.json && flags['per-thread'] ? { threads } : undefined)
  return 0
}
