import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { commandEnv } from '../loading/electron'
import { PerfEventError, typeError } from '../errors/errors'
import type { Profile } from './model'
import { Profiler, type ProfileOptions } from './profiler'
import { claimPerfMap, type PerfMapClaim } from './mapguard'
import { forwardSignals, type SignalForwarding } from './signals'

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

/** Options of `profileCommand`: the profile's options (no `scope`) and how to start the command. */
export type CommandOptions = OmitEach<ProfileOptions, 'scope'> & CommandStart

/**
 * Starts `file` with `args`, profiles it and everything it starts (its threads, and its children:
 * the events are inherited) from its exec to its exit, and symbolizes it after it has exited, from
 * its mmap records (ELF/DWARF at file offsets) and its V8 perf map file. For a Node program pass
 * `--perf-basic-prof`: `profileCommand(process.execPath, ['--perf-basic-prof', 'app.js'])`. Under Electron,
 * `process.execPath` is the Electron binary: it is started with `ELECTRON_RUN_AS_NODE=1` (unless
 * `options.env` sets that variable), so it runs the script as Node does.
 * One event per CPU (enabled by the kernel at exec), one ring per CPU. `profile.meta.exitCode` /
 * `signal` tell how it ended.
 */
export async function profileCommand(file: string, args: readonly string[] = [], options: CommandOptions = {}): Promise<Profile> {
  if (typeof file !== 'string' || file === '') throw typeError('a command (a non-empty string)', 'file', file)
  if (!Array.isArray(args)) throw typeError('an array of strings', 'args', args)
  const bad = args.findIndex((a) => typeof a !== 'string')
  if (bad >= 0) throw typeError('a string', `args[${bad}]`, args[bad])
  if (options === null || typeof options !== 'object') throw typeError('an options object', 'options', options)
  const { cwd, env, stdio = 'inherit', forwardSignals: forward = false, ...profileOptions } = options
  if (typeof forward !== 'boolean') throw typeError('a boolean', 'options.forwardSignals', forward)
  if ('scope' in profileOptions) throw new TypeError('Expected no options.scope for profileCommand (it profiles the command and its children) but received one')
  if (stdio !== 'inherit' && stdio !== 'ignore') throw typeError("'inherit' or 'ignore'", 'options.stdio', stdio)
  const profiler = new Profiler(profileOptions)
  // The shell waits on fd 3 until the events are open, then execs the command: the kernel enables
  // them at that exec, so the profile starts with the command's first instruction. If this process
  // dies first (fd 3 closes without a line), the shell exits instead of running the command unprofiled.
  // Under Electron, process.execPath is the Electron binary: it runs as Node with ELECTRON_RUN_AS_NODE=1 (lib/loading/electron.ts).
  const child = spawn('/bin/sh', ['-c', 'read _ <&3 || exit 125; exec 3<&-; exec "$@"', 'sh', file, ...args], { cwd, env: commandEnv(file, env), stdio: [stdio, stdio, stdio, 'pipe'] })
  await once(child, 'spawn')
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  // V8's perf map path of the command's pid is claimed before it execs (a planted symlink or FIFO
  // there refuses the start), and released (removed if still empty) once its profile is done.
  let claim: PerfMapClaim | undefined
  try {
    claim = claimPerfMap(child.pid!)
    profiler.attachChild(child.pid!)
  } catch (e) {
    claim?.release()
    child.kill('SIGKILL')
    await exited
    throw e
  }
  let signals: SignalForwarding | undefined
  let p
  let code: number | null
  let signal: NodeJS.Signals | null
  try {
    if (forward) signals = forwardSignals(child)
    ;(child.stdio[3] as Writable).end('go\n')
    ;({ code, signal } = await exited)
    p = await profiler.stop()
  } finally {
    signals?.dispose()
    claim.release()
  }
  if (code === 127 && p.sampleCount === 0)
    throw new PerfEventError(`Could not start ${file}: not found or not executable`, 'ENOENT', { syscall: 'execve', hint: 'Give the path of an executable (or a name on PATH).' })
  if (code === 126 && p.sampleCount === 0)
    throw new PerfEventError(`Could not start ${file}: not executable (permission denied, or not a program)`, 'EACCES', {
      syscall: 'execve',
      hint: 'Give an executable file: a binary, or a script with a #! line and the execute bit (chmod +x).',
    })
  Object.assign(p.meta, { exitCode: code, signal })
  return p
}
