/**
 * `perf-event-open record`: samples the call stacks of a command (from its exec to its exit, with
 * every thread and child) or of a running process, and writes a symbolized profile in each format
 * asked for (the registry lib/profile/formats/index.ts), with the table of the hottest functions on stderr.
 * @packageDocumentation
 */
import { extname, resolve } from 'node:path'
import { PerfEventError } from '../errors/errors'
import { exitCodeOf } from '../handles/spawn'
import { profileCommand } from '../profile/command'
import type { Profile } from '../profile/model'
import { Profiler, type ProfileOptions } from '../profile/profiler'
import { OffCpuProfiler, type OffCpuOptions } from '../profile/offcpu'
import { symbolizer } from '../profile/symbolizer'
import { defineCommand } from './command'
import { EXIT, UsageError } from './conventions'
import { errorText } from './format'
import { nodeCommand, nodePerfEnv } from './node-command'
import { formatExtensions, formatFor, formatsHelp } from '../profile/formats'
import { untilStopOrExit } from './until-stop'

const DEFAULT_OUTPUT = 'profile.pb.gz'
const DEFAULT_TOP = 15

export const record = defineCommand({
  name: 'record',
  usage: [
    { options: '[-e ev] [-F freq | -c period] [-o out]', operands: '-- cmd [args...]', summary: 'profile a command (every thread and child) from its exec to its exit' },
    { options: '[-e ev] [-F freq | -c period] [-o out]', operands: '-p pid', summary: 'profile every thread of a running process until Ctrl-C or its exit' },
  ],
  about: `Samples call stacks of one event and writes a symbolized profile: JS functions (from V8's perf map),
native code (ELF/DWARF) and, where allowed, kernel frames. With -- cmd the whole command is profiled,
from its exec to its exit, with every thread and child it starts. A Node command (node, the path of
a node binary, or a script whose #! line runs node) is started with --perf-basic-prof and
--interpreted-frames-native-stack so that its JS frames get names; NODE_OPTIONS carries the same
flags to Node programs it starts (npm, npx, shell scripts). The table (self and total weight, in ns
for the clocks and events otherwise) and the files written go to stderr; the command's own output is
left alone. For a Node program the table is JS-first, as node --cpu-prof counts: the native and kernel
code a JS function called is its self time (--by-frame: the leaf native/kernel frames instead).`,
  options: {
    event: { type: 'string', short: 'e', arg: 'ev', description: "event to sample (default cpu-clock; 'perf-event-open list' shows them)" },
    freq: { type: 'string', short: 'F', arg: 'n', description: 'samples per second (default 999 for clocks and hardware events)' },
    count: { type: 'string', short: 'c', arg: 'n', description: 'one sample every n events (default 1 for other events and tracepoints)' },
    output: { type: 'string', short: 'o', multiple: true, arg: 'file', description: `where to write the profile (default ${DEFAULT_OUTPUT}); the extension picks the format` },
    kernel: { type: 'boolean', description: 'kernel frames on (default where allowed: root, CAP_PERFMON or paranoid <= 1)' },
    'no-kernel': { type: 'boolean', description: 'kernel frames off' },
    pid: { type: 'string', short: 'p', arg: 'pid', description: 'profile every thread of a running process until Ctrl-C or its exit' },
    top: { type: 'string', short: 'n', arg: 'n', description: `rows of the printed table of hottest functions (default ${DEFAULT_TOP})` },
    'off-cpu': { type: 'boolean', description: 'where threads wait: each off-CPU interval weighted by its length (ns), under its stack at the switch-out and its state ([blocked], [run queue], [idle])' },
    wall: { type: 'boolean', description: 'wall time: on-CPU samples (cpu-clock, -F) plus every off-CPU interval, in ns' },
    'by-frame': { type: 'boolean', description: 'table by leaf frame (native/kernel breakdown) instead of by nearest JS function' },
  },
  notes: () => `Output formats (-o file.EXT; several -o write several formats from the one run):\n${formatsHelp('  ')}`,
  positionals: true,
  runsCommand: true,
  async run(values, positionals) {
    // Several -o write several files (one per format) from the one profile.
    const outputs = [...new Set((values.output ?? [DEFAULT_OUTPUT]).map((o) => resolve(o)))].map((output, i) => {
      const format = formatFor(output)?.format
      if (!format)
        throw new UsageError(
          `Expected an output file ending in ${formatExtensions().join(', ')} for -o but received ${JSON.stringify(values.output?.[i] ?? DEFAULT_OUTPUT)} (${extname(output) || 'no extension'})`,
        )
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
    const top = positiveInt(values.top, '-n') ?? DEFAULT_TOP
    const pid = positiveInt(values.pid, '-p')
    if (pid !== undefined && positionals.length) throw new UsageError('Expected either -p pid or -- cmd, not both')
    if (pid === undefined && positionals.length === 0) throw new UsageError('Expected a command after -- (or -p pid)')
    const wait = waitMode(values, options)
    // The options (event name, rate) are checked before anything starts.
    try {
      if (wait) new OffCpuProfiler(pid === undefined ? wait : { ...wait, scope: 'process', pid })
      else new Profiler(pid === undefined ? options : { ...options, scope: 'process', pid })
    } catch (e) {
      throw asUsage(e)
    }
    // The symbolizer is needed once the command has run: check it first, not after a long run (ERR_SYMBOLIZER_MISSING, exit 1).
    symbolizer()
    let profile: Profile
    let exitCode: number = EXIT.ok
    let title: string
    if (pid !== undefined) {
      profile = await recordPid(pid, wait ?? options)
      title = `process ${pid}`
    } else {
      const { argv: cmd } = nodeCommand(positionals)
      // SIGINT/SIGTERM/SIGHUP go to the command (Ctrl-C reaches it anyway: same process group); the
      // profile is written when it exits; a second signal exits at once.
      try {
        const start = { env: nodePerfEnv(), forwardSignals: true }
        profile = await profileCommand(cmd[0], cmd.slice(1), wait ? { ...wait, ...start } : { ...options, ...start })
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
    const lines = ['', ` Profile of ${title}:`, '', profile.top(top, values['by-frame'] ? { attribute: 'frame' } : {}).table, '']
    for (const w of profile.warnings) lines.push(`warning: ${w}`)
    const seconds = ((profile.meta.endTime - profile.meta.startTime) / 1000).toFixed(3)
    lines.push(`Wrote ${outputs.map(({ output, format }) => `${output} (${format.title})`).join(', ')}: ${profile.sampleCount} samples of ${profile.event} on ${profile.threads.length} threads, ${profile.lost.count} lost, over ${seconds} s.`)
    process.stderr.write(`${lines.join('\n')}\n`)
    return exitCode
  },
})

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`Expected a positive integer for ${flag} but received ${JSON.stringify(v)}`)
  return n
}

/** A usage error (exit code 2) for what the user typed wrong: option values, unknown events. */
function asUsage(e: unknown): unknown {
  if (e instanceof TypeError || e instanceof RangeError) return new UsageError(e.message)
  if (e instanceof PerfEventError && e.code === 'ERR_UNKNOWN_EVENT') return new UsageError(errorText(e).replace(/^ERR_UNKNOWN_EVENT: /, ''))
  return e
}

/**
 * `--off-cpu` / `--wall`: the off-CPU profile's options (mode, kernel, -F for the on-CPU samples of
 * `--wall`), or undefined for a CPU profile. -e and -c name what a CPU profile samples: not with these.
 */
function waitMode(values: { 'off-cpu'?: boolean; wall?: boolean; event?: string; count?: string }, options: ProfileOptions): (OffCpuOptions & { mode: 'wall' | 'off-cpu' }) | undefined {
  if (values['off-cpu'] && values.wall) throw new UsageError('Expected one of --off-cpu or --wall but received both')
  const mode = values.wall ? 'wall' : values['off-cpu'] ? 'off-cpu' : undefined
  if (!mode) return undefined
  const flag = `--${mode}`
  if (values.event !== undefined) throw new UsageError(`Expected no -e with ${flag} (it records context switches${mode === 'wall' ? ' and cpu-clock' : ''}) but received -e ${values.event}`)
  if (values.count !== undefined) throw new UsageError(`Expected no -c with ${flag} but received -c ${values.count}`)
  if (mode === 'off-cpu' && options.freq !== undefined) throw new UsageError('Expected no -F with --off-cpu (no on-CPU samples: use --wall) but received one')
  const wait: OffCpuOptions & { mode: 'wall' | 'off-cpu' } = { mode }
  if (options.freq !== undefined) wait.freq = options.freq
  if (options.kernel !== undefined) wait.kernel = options.kernel
  return wait
}

/** Profiles every thread of a running process until Ctrl-C (SIGINT/SIGTERM) or its exit. */
async function recordPid(pid: number, options: ProfileOptions | (OffCpuOptions & { mode: 'wall' | 'off-cpu' })): Promise<Profile> {
  const profiler = 'mode' in options ? new OffCpuProfiler({ ...options, scope: 'process', pid }) : new Profiler({ ...options, scope: 'process', pid })
  profiler.start()
  process.stderr.write(`Profiling every thread of process ${pid} (and threads it starts); Ctrl-C to stop.\n`)
  await untilStopOrExit(pid)
  return profiler.stop()
}
