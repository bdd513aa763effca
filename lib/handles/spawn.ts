/**
 * Starts a command held before its exec, so that counters or a profiler can be attached to its pid
 * first (the kernel enables them at the exec: counting starts at the command's first instruction),
 * then lets it run, waits for its end and maps how it ended to an exit code. Used by the CLI's
 * `stat -- cmd` and by `profileCommand` (and so by `record -- cmd`).
 * @packageDocumentation
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { commandEnv } from '../loading/electron'
import { forwardSignals, signalExitCode } from '../profile/signals'

/** How `runHeld` starts the command and what this process does with stop signals while it runs. */
export interface HeldStart {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** The command's stdin, stdout and stderr: `'inherit'` (default) or `'ignore'`. */
  stdio?: 'inherit' | 'ignore'
  /**
   * SIGINT, SIGTERM and SIGHUP received while the command runs: `'default'` leaves this process's
   * own handling alone; `'ignore'` keeps this process alive (Ctrl-C reaches the command through the
   * process group; the results are reported when it exits); `'forward'` passes them on to the
   * command, and a second one kills it and exits this process (`forwardSignals`).
   */
  signals?: 'default' | 'ignore' | 'forward'
  /** The shell's `$0`, which starts its own error messages (`sh: 1: exec: x: not found`). Default `'sh'`. */
  name?: string
}

/** How a held command ended, and what `attach` returned for it. */
export interface HeldRun<T> {
  /** What `attach` returned. */
  attached: T
  /** The command's pid (the waiting shell's, which the command replaces at its exec). */
  pid: number
  /** Its exit code, `null` when a signal ended it. */
  code: number | null
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null
  /** The conventional exit code: `code`, or 128 + the signal's number (`exitCodeOf`). */
  exitCode: number
  /** ns from its release to its exit (wall time). */
  elapsedNs: number
}

/** A process's end as a shell reports it: its exit code, or 128 + the number of the signal that killed it. */
export function exitCodeOf(code: number | null | undefined, signal: NodeJS.Signals | string | null | undefined): number {
  if (code !== null && code !== undefined) return code
  return signal ? signalExitCode(signal as NodeJS.Signals) : 128
}

/** Keeps this process running on SIGINT/SIGTERM while the command runs (they reach the command through the process group). */
function ignoreStopSignals(): { dispose(): void } {
  const ignore = () => {}
  process.on('SIGINT', ignore)
  process.on('SIGTERM', ignore)
  return {
    dispose() {
      process.off('SIGINT', ignore)
      process.off('SIGTERM', ignore)
    },
  }
}

/**
 * Starts `file` with `args` held before its exec: a shell that waits on fd 3, then execs the command.
 * `attach(pid)` opens what counts or samples it (with enable-on-exec); if it throws, the held command
 * is killed before it runs and the error is thrown. Otherwise the command is let go (if this process
 * dies first, fd 3 closes without a line and the shell exits with 125 instead of running the command
 * unobserved) and the promise resolves once it has exited. Under Electron, `process.execPath` as the
 * command runs as Node (`ELECTRON_RUN_AS_NODE=1`, lib/loading/electron.ts).
 */
export async function runHeld<T>(file: string, args: readonly string[], start: HeldStart, attach: (pid: number) => T): Promise<HeldRun<T>> {
  const { cwd, env, stdio = 'inherit', signals = 'default', name = 'sh' } = start
  const child = spawn('/bin/sh', ['-c', 'read _ <&3 || exit 125; exec 3<&-; exec "$@"', name, file, ...args], { cwd, env: commandEnv(file, env), stdio: [stdio, stdio, stdio, 'pipe'] })
  await once(child, 'spawn')
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const pid = child.pid!
  let attached: T
  try {
    attached = attach(pid)
  } catch (e) {
    child.kill('SIGKILL')
    await exited
    throw e
  }
  const handling = signals === 'forward' ? forwardSignals(child) : signals === 'ignore' ? ignoreStopSignals() : undefined
  try {
    const go = child.stdio[3] as Writable
    // A shell already gone (killed from outside) closes the pipe: its exit status says what happened.
    go.on('error', () => {})
    const t0 = process.hrtime.bigint()
    go.end('go\n')
    const { code, signal } = await exited
    const elapsedNs = Number(process.hrtime.bigint() - t0)
    return { attached, pid, code, signal, exitCode: exitCodeOf(code, signal), elapsedNs }
  } finally {
    handling?.dispose()
  }
}
