import type { ChildProcess } from 'node:child_process'
import { constants } from 'node:os'

/** Signals that ask a profiled command (and the profiler) to end. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** What `forwardSignals` returns: the first signal received (if any), and how to stop listening. */
export interface SignalForwarding {
  /** The first signal received while forwarding, if any. */
  readonly received: NodeJS.Signals | undefined
  /** Stops listening: the process's own handling of those signals is back. */
  dispose(): void
}

/** The conventional exit code of a process ended by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0)
}

/**
 * While a profiled command runs, SIGINT, SIGTERM and SIGHUP sent to this process are passed on to
 * it (a supervisor, `timeout` or `docker stop` signal only this pid; Ctrl-C in a terminal reaches
 * both), so that it ends and its profile is written. A second one kills the command (SIGKILL) and
 * calls `onRepeat` (default: exit this process at once with 128 + the signal's number).
 */
export function forwardSignals(child: ChildProcess, onRepeat: (signal: NodeJS.Signals) => void = (s) => process.exit(signalExitCode(s))): SignalForwarding {
  let received: NodeJS.Signals | undefined
  const handler = (signal: NodeJS.Signals) => {
    if (received === undefined) {
      received = signal
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    onRepeat(signal)
  }
  for (const s of STOP_SIGNALS) process.on(s, handler)
  return {
    get received() {
      return received
    },
    dispose() {
      for (const s of STOP_SIGNALS) process.off(s, handler)
    },
  }
}
