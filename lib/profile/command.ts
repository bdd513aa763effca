import { PerfEventError, typeError } from '../errors/errors'
import { runHeld } from '../handles/spawn'
import { COMMAND_HINTS } from '../errors/hints'
import type { Profile } from './model'
import { Profiler, type ProfileOptions } from './profiler'
import { claimPerfMap, type PerfMapClaim } from './mapguard'
import { removeLeftovers } from './leftovers'
import { OffCpuProfiler, type OffCpuOptions } from './offcpu'

/** `Omit` applied to each member of a union (keeps `freq`/`period` exclusive). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** How `profileCommand` starts the command. */
export interface CommandStart {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** The command's stdin, stdout and stderr: `'inherit'` (default) or `'ignore'`. */
  stdio?: 'inherit' | 'ignore'
  /**
   * Pass SIGINT, SIGTERM and SIGHUP that this process receives on to the command while it runs (the
   * profile is returned when it ends); a second one kills the command and exits this process at
   * once with 128 + the signal's number. What `perf-event-open record` does. Default false.
   */
  forwardSignals?: boolean
}

/**
 * Options of `profileCommand`: the profile's options (no `scope`) and how to start the command;
 * with `mode: 'wall' | 'off-cpu'` an off-CPU profile's (lib/profile/offcpu) instead.
 */
export type CommandOptions = ((OmitEach<ProfileOptions, 'scope'> & { mode?: 'cpu' }) | (Omit<OffCpuOptions, 'scope' | 'tid' | 'pid'> & { mode: 'wall' | 'off-cpu' })) & CommandStart

/**
 * Starts `file` with `args`, profiles it and everything it starts (its threads, and its children:
 * the events are inherited) from its exec to its exit, and symbolizes it after it has exited, from
 * its mmap records (ELF/DWARF at file offsets) and its V8 perf map file. For a Node program pass
 * `--perf-basic-prof`: `profileCommand(process.execPath, ['--perf-basic-prof', 'app.js'])`. Under Electron,
 * `process.execPath` is the Electron binary: it is started with `ELECTRON_RUN_AS_NODE=1` (unless
 * `options.env` sets that variable), so it runs the script as Node does.
 * One event per CPU (enabled by the kernel at exec), one ring per CPU. `profile.meta.exitCode` /
 * `signal` tell how it ended. Once the profile is built, the files its Node processes left because
 * of `--perf-basic-prof` (their `/tmp/perf-<pid>.map` and the `isolate-…-v8.log` in `cwd`) are removed
 * (lib/profile/leftovers.ts); a V8 log with more than `--perf-basic-prof` wrote (`--prof`, `--log-code`…) stays.
 */
export async function profileCommand(file: string, args: readonly string[] = [], options: CommandOptions = {}): Promise<Profile> {
  if (typeof file !== 'string' || file === '') throw typeError('a command (a non-empty string)', 'file', file)
  if (!Array.isArray(args)) throw typeError('an array of strings', 'args', args)
  const bad = args.findIndex((a) => typeof a !== 'string')
  if (bad >= 0) throw typeError('a string', `args[${bad}]`, args[bad])
  if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
  const { cwd, env, stdio = 'inherit', forwardSignals: forward = false, mode, ...profileOptions } = options
  if (typeof forward !== 'boolean') throw typeError('a boolean', 'options.forwardSignals', forward)
  if ('scope' in profileOptions) throw new TypeError('Expected no options.scope for profileCommand (it profiles the command and its children) but received one')
  if (stdio !== 'inherit' && stdio !== 'ignore') throw typeError("'inherit' or 'ignore'", 'options.stdio', stdio)
  if (mode !== undefined && mode !== 'cpu' && mode !== 'wall' && mode !== 'off-cpu') throw typeError("'cpu', 'wall' or 'off-cpu'", 'options.mode', mode)
  const profiler = mode === 'wall' || mode === 'off-cpu' ? new OffCpuProfiler({ ...(profileOptions as OffCpuOptions), mode, scope: 'process' }) : new Profiler(profileOptions as ProfileOptions)
  // Held before its exec (lib/handles/spawn.ts): the kernel enables the events at that exec, so the
  // profile starts with the command's first instruction. V8's perf map path of the command's pid is
  // claimed before it execs (a planted symlink or FIFO there refuses the start), and released
  // (removed if still empty) once its profile is done.
  let claim: PerfMapClaim | undefined
  let p: Profile | undefined
  let pid = 0
  const since = Date.now()
  let code: number | null
  let signal: NodeJS.Signals | null
  try {
    ;({ code, signal, pid } = await runHeld(file, args, { cwd, env, stdio, signals: forward ? 'forward' : 'default' }, (child) => {
      claim = claimPerfMap(child)
      profiler.attachChild(child)
    }))
    p = await profiler.stop()
  } finally {
    claim?.release()
    if (pid > 0) {
      removeLeftovers({ pids: [pid, ...(p?.threads.map((t) => t.pid) ?? [])], cwd: cwd ?? process.cwd(), since })
    }
  }
  if (code === 127 && p.sampleCount === 0)
    throw new PerfEventError(`Could not start ${file}: not found or not executable`, 'ENOENT', { syscall: 'execve', hint: COMMAND_HINTS.notFound })
  if (code === 126 && p.sampleCount === 0)
    throw new PerfEventError(`Could not start ${file}: not executable (permission denied, or not a program)`, 'EACCES', {
      syscall: 'execve',
      hint: COMMAND_HINTS.notExecutable,
    })
  Object.assign(p.meta, { exitCode: code, signal })
  return p
}
