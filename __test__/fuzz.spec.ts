// Seeded property fuzz (fast-check) in the suite: events, targets, options, sampler sizes and
// drain sizes, hostile V8 perf maps (FIFOs, symlinks, malformed lines, control characters), a few thousand cases in child processes (a crash is counted, not fatal), with a
// heap cap and an RSS/fd bound. The long run is `npm run fuzz` (100 000 cases).
import test from 'ava'
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const SCRIPT = join(import.meta.dirname, 'fixtures', 'fuzz.js')

test('fuzz: 3000 seeded cases give 0 crashes, 0 unclear errors, 0 hangs, no RSS or fd growth', async (t) => {
  const child = spawn(process.execPath, [SCRIPT, '--cases', '3000', '--batch', '1500', '--seed', '20261127', '--json', '--timeout', '100'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const sum = JSON.parse(out.trim().split('\n').pop()!)
  t.log(`cases ${sum.cases}, calls ${sum.calls}: crashes ${sum.crashes}, unclear ${sum.unclear}, hangs ${sum.hangs}, leaks ${sum.leaks}; outcomes ${JSON.stringify(sum.kinds)}`)
  for (const e of sum.examples) t.log(JSON.stringify(e))
  t.is(sum.cases, 3000, err)
  t.is(sum.crashes, 0)
  t.is(sum.unclear, 0)
  t.is(sum.hangs, 0)
  t.is(sum.leaks, 0)
  t.true(sum.kinds.ok > 100, 'the fuzz reaches open counters, not only argument errors')
  // Hostile perf maps are planted too (issue 16): each kind is reached, none gave an unclear outcome.
  for (const kind of ['lines', 'tooBig', 'fifo', 'symlinkZero', 'symlinkFile', 'dir']) t.true(sum.kinds[`perfMap:${kind}`] > 10, `perf map kind ${kind} planted`)
  t.is(code, 0)
})
