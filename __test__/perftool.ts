// The `perf` tool (Debian `linux-perf`) as ground truth: installed here when missing (root only).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Path of a working `perf`, installing Debian's `linux-perf` when it is missing; or why not. */
export function perfTool(): { path?: string; reason: string } {
  const works = () => spawnSync('perf', ['version'], { encoding: 'utf8' }).status === 0
  if (works()) return { path: 'perf', reason: '' }
  if (process.getuid?.() !== 0) return { reason: 'perf is missing and installing linux-perf needs root' }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'linux-perf'], { stdio: 'ignore' })
  } catch {
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
      execFileSync('apt-get', ['install', '-y', '-qq', 'linux-perf'], { stdio: 'ignore' })
    } catch (e) {
      return { reason: `apt-get install linux-perf failed: ${(e as Error).message}` }
    }
  }
  return works() ? { path: 'perf', reason: '' } : { reason: 'perf does not run after installing linux-perf' }
}

/** Parses `perf stat -x,` output: event name -> value (task-clock in ms as printed, others as counts). */
export function parsePerfCsv(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const f = line.split(',')
    if (f.length < 3) continue
    const v = Number(f[0])
    if (!Number.isFinite(v)) continue
    out.set(f[2].replace(/:u$/, ''), v)
  }
  return out
}

/**
 * `perf stat -p pid` started with events disabled and driven through a control fifo, so that its
 * window is set exactly: `enable()` and `disable()` return once perf has acknowledged.
 */
export class PerfStatAttached {
  readonly #dir = mkdtempSync(join(tmpdir(), 'perfctl-'))
  readonly #child: ChildProcess
  readonly #ctl: number
  readonly #ack: number
  readonly #done: Promise<void>

  constructor(perf: string, pid: number, events: string[]) {
    const ctl = join(this.#dir, 'ctl')
    const ack = join(this.#dir, 'ack')
    execFileSync('mkfifo', [ctl, ack])
    // O_RDWR on a fifo never blocks in open(): perf finds the command waiting when it is ready.
    this.#ctl = openSync(ctl, 'r+')
    this.#ack = openSync(ack, constants.O_RDONLY | constants.O_NONBLOCK)
    const out = join(this.#dir, 'out.csv')
    this.#child = spawn(perf, ['stat', '-x,', '-o', out, '-e', events.join(','), '-D', '-1', '--control', `fifo:${ctl},${ack}`, '-p', String(pid)], {
      stdio: 'ignore',
    })
    this.#done = new Promise((resolve, reject) => {
      this.#child.on('error', reject)
      this.#child.on('exit', () => resolve())
    })
  }

  #command(cmd: string): void {
    writeSync(this.#ctl, `${cmd}\n`)
    // Wait (sleeping, 30 s at most) for perf's "ack\n"; no JS runs meanwhile, so the window stays exact.
    const buf = Buffer.alloc(16)
    const deadline = Date.now() + 30_000
    const nap = new Int32Array(new SharedArrayBuffer(4))
    for (;;) {
      let n = 0
      try {
        n = readSync(this.#ack, buf, 0, buf.length, null)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e
      }
      if (n > 0) return
      if (Date.now() > deadline || this.#child.exitCode !== null) throw new Error(`perf did not acknowledge "${cmd}"`)
      Atomics.wait(nap, 0, 0, 1)
    }
  }

  enable(): void {
    this.#command('enable')
  }

  disable(): void {
    this.#command('disable')
  }

  /** Stops perf (SIGINT) and returns its counts. */
  async stop(): Promise<Map<string, number>> {
    this.#child.kill('SIGINT')
    await this.#done
    closeSync(this.#ctl)
    closeSync(this.#ack)
    const text = readFileSync(join(this.#dir, 'out.csv'), 'utf8')
    rmSync(this.#dir, { recursive: true, force: true })
    return parsePerfCsv(text)
  }
}
