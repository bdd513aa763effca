/** Continuous profiling: flush() windows add up to the run, windows carry labels into pprof, the store grows with stacks, not samples. */
import test from 'ava'
import { gunzipSync } from 'node:zlib'
import { Profile as PprofProfile } from 'pprof-format'
import { Profiler } from '../dist/index.js'
import { spinCpu } from './helpers.ts'

const tick = () => new Promise((r) => setTimeout(r, 1))

test('flush() twice then stop(): three profiles whose sample counts add up to the run, with increasing start/end times and labels in pprof', async (t) => {
  const p = new Profiler({ labels: { service: 'api', pid: process.pid } })
  p.start()
  spinCpu(100)
  const a = await p.flush()
  spinCpu(100)
  const b = await p.flush()
  spinCpu(50)
  const c = await p.stop()
  t.log(`samples per window: ${a.sampleCount}, ${b.sampleCount}, ${c.sampleCount}`)
  for (const w of [a, b]) t.true(w.sampleCount >= 70, `${w.sampleCount} samples in 100 ms of CPU at 999 Hz`)
  t.true(a.meta.startTime <= a.meta.endTime && a.meta.endTime === b.meta.startTime && b.meta.endTime === c.meta.startTime && b.meta.startTime < b.meta.endTime)
  // Every sample in exactly one window: the weights add up to the CPU time the thread spent sampled.
  t.is(a.lost.count + b.lost.count + c.lost.count, 0)
  const pp = PprofProfile.decode(gunzipSync(a.toPprof()))
  const str = (i: unknown) => pp.stringTable.strings[Number(i)]
  const labels = pp.sample[0].label.map((l) => [str(l.key), l.str ? str(l.str) : Number(l.num)])
  t.deepEqual(labels.filter(([k]) => k === 'service' || k === 'pid'), [['service', 'api'], ['pid', process.pid]])
  const count = pp.sample.reduce((n, s) => n + Number(s.value[0]), 0)
  t.is(count, a.sampleCount)
  // timeNanos is start ms x 1e6 exactly; as a Number it is past 2^53, so compare in whole ms.
  t.is(Math.round(Number(pp.timeNanos) / 1e6), a.meta.startTime)
})

test('window: the store holds (thread, stack) entries, constant over many windows of the same stacks; windows are handed to onWindow', async (t) => {
  const windows: { samples: number; span: number; end: number }[] = []
  const p = new Profiler({ window: 1000, onWindow: (w) => void windows.push({ samples: w.sampleCount, span: w.meta.endTime - w.meta.startTime, end: w.meta.endTime }) })
  p.start()
  const held: { entries: number; samples: number }[] = []
  // One stack shape over and over (tiny CPU chunks with event-loop turns): entries stay put while samples grow.
  const hot = () => spinCpu(20)
  // A hang guard, not a duration: the windows are wall-clock by design; 60 s is far past three of them.
  const deadline = Date.now() + 60_000
  while (windows.length < 3 && Date.now() < deadline) {
    hot()
    await tick()
    held.push(p.held)
  }
  const last = await p.stop()
  const maxEntries = Math.max(...held.map((h) => h.entries))
  const maxSamples = Math.max(...held.map((h) => h.samples))
  t.log(`${windows.length} windows (${windows.map((w) => `${w.samples} samples / ${w.span} ms`).join(', ')}); store: at most ${maxEntries} entries for ${maxSamples} samples`)
  t.is(windows.length, 3, 'three windows handed over')
  t.true(maxSamples >= 2 * maxEntries, `${maxEntries} entries for ${maxSamples} samples`)
  t.true(windows.every((w) => w.samples > 0 && w.span >= 900))
  // The last window (from the third hand-over to stop()) is its own profile, after the others.
  t.true(last.meta.startTime >= Math.max(...windows.map((w) => w.end)) - 1, 'the last window starts where the third ended')
})

test('window without onWindow is a TypeError; a window under 1 s a RangeError; labels must be strings or numbers', (t) => {
  t.throws(() => new Profiler({ window: 1000 }), { instanceOf: TypeError })
  t.throws(() => new Profiler({ window: 10, onWindow: () => {} }), { instanceOf: RangeError })
  t.throws(() => new Profiler({ labels: { a: {} as never } }), { instanceOf: TypeError })
})
