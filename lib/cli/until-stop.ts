/**
 * How `stat -p` and `record -p` wait: until Ctrl-C (SIGINT), SIGTERM, or the process's own exit.
 * @packageDocumentation
 */

/** Resolves on Ctrl-C (SIGINT) or SIGTERM, or once process `pid` is gone (polled every 100 ms). */
export function untilStopOrExit(pid: number): Promise<void> {
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
      } catch (e) {
        // EPERM: it runs, as another user (profiled with CAP_PERFMON); only ESRCH means it is gone.
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') done()
      }
    }, 100)
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}
