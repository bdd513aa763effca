// The icount bench: instructions (user + kernel) per stat() in the emulated arm64 guest, where
// QEMU's -icount makes counts exact (no noise from other work on the host), beside native C loops
// on the same kinds of counter (bench/icount/read-loop.c): read(2), and the user-space read. Run by
// scripts/emulated/run.sh as root (it switches kernel.perf_user_access and counts kernel
// instructions). Prints lines "icount-bench: …" that run.sh repeats in its summary.
//
// The read(2) figures repeat to the instruction. The user-space read's do not: QEMU ends a
// translation block at each EL0 read of a PMU register and, under icount, may execute part of it
// again, which its own `instructions` counter sees. That only adds instructions, so each figure is
// the minimum of ROUNDS rounds (all rounds are printed).
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { Counter } from 'perf-event-open'

const N = 10_000
const ROUNDS = 5
const out = (s: string) => console.log(`icount-bench: ${s}`)
const access = (v: 0 | 1) => writeFileSync('/proc/sys/kernel/perf_user_access', String(v))

access(1)
const native = Object.fromEntries(
  execFileSync('/t/read-loop-aarch64', { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]),
) as Record<string, number>

interface Figures {
  /** Instructions (user + kernel) per stat(): the minimum over the rounds. */
  perCall: number
  rounds: number[]
  /** Kernel instructions per stat() in the same rounds' minimum. */
  kernel: number
  userSpace: boolean
}

/** Instructions per stat() of `event`, with kernel.perf_user_access = `v`. */
function perStat(event: string, v: 0 | 1): Figures {
  access(v)
  // The meters are inherited: they never read in user space themselves.
  using meter = new Counter('instructions', undefined, { inherit: 'newChild' })
  using kmeter = new Counter('instructions:k', undefined, { inherit: 'newChild' })
  using c = new Counter(event, undefined, { enable: true })
  const loop = (n: number) => {
    for (let i = 0; i < n; i++) c.stat()
  }
  loop(2000) // V8 tiers up the loop and the facade
  const measure = (n: number): [number, number] => {
    meter.reset()
    kmeter.reset()
    kmeter.enable()
    meter.enable()
    loop(n)
    meter.disable()
    kmeter.disable()
    return [Number(meter.stat().count), Number(kmeter.stat().count)]
  }
  const [empty, kEmpty] = measure(0)
  const rounds = Array.from({ length: ROUNDS }, () => measure(N)).map(([all, k]) => [(all - empty) / N, (k - kEmpty) / N])
  const best = rounds.reduce((a, r) => (r[0] < a[0] ? r : a))
  return { perCall: best[0], kernel: best[1], rounds: rounds.map((r) => r[0]), userSpace: c.userSpaceRead }
}

const hw = perStat('instructions:u', 1)
const hwSys = perStat('instructions:u', 0)
const sw = perStat('task-clock:u', 1)
const f = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(1))
out(`native loops: read(2) of instructions:u ${f(native['instructions:u'])}, of task-clock:u ${f(native['task-clock:u'])}; user-space read of instructions:u ${f(native['instructions:u-user'])} instructions per call`)
const rows: [string, Figures, number][] = [
  [`stat() instructions:u, ${hw.userSpace ? 'user-space read' : 'read(2): the user-space read was refused'}`, hw, native['instructions:u']],
  ['stat() instructions:u, read(2) (perf_user_access 0)', hwSys, native['instructions:u']],
  ['stat() task-clock:u, read(2) (software event)', sw, native['task-clock:u']],
]
for (const [what, r, base] of rows)
  out(`${what}: ${f(r.perCall)} instructions per call (${f(r.kernel)} in the kernel) = ${(r.perCall / base).toFixed(3)}x native read(2); rounds ${r.rounds.map(f).join(' ')}`)
