import test from 'ava'
import { pbkdf2 } from 'node:crypto'
import { openSync, writeSync } from 'node:fs'
import { Bench } from 'tinybench'
import { measure } from 'mitata'
import { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } from '@opentelemetry/sdk-metrics'
import { tinybenchCounters } from '../dist/adapters/tinybench.js'
import { mitataCounters } from '../dist/adapters/mitata.js'
import { observeProcessCounters } from '../dist/adapters/opentelemetry.js'

// Serial: the OpenTelemetry test compares whole-process counts with process.cpuUsage().
const fd = openSync('/dev/null', 'w')
const writes = (n: number) => {
  for (let i = 0; i < n; i++) writeSync(fd, 'x')
}

test.serial('tinybench: per-iteration counts of each task next to its timings (real tinybench)', async (t) => {
  const bench = new Bench({ time: 50, warmupTime: 10 })
  const perf = tinybenchCounters(['task-clock', 'page-faults', 'syscalls:sys_enter_write'])
  let userHook = 0
  bench.add('write7', () => writes(7), perf.hooks('write7', { beforeEach: () => void userHook++ }))
  bench.add('touch32pages', () => Buffer.alloc(32 * 4096).fill(1), perf.hooks('touch32pages'))
  bench.add('noop', () => {}, perf.hooks('noop'))
  await bench.run()
  const w = perf.counts('write7')!
  const samples = bench.getTask('write7')!.result as { latency?: { samplesCount: number } }
  t.log(`write7: ${w.iterations} iterations, ${w.perIteration['syscalls:sys_enter_write']} writes/iter, ${w.perIteration['task-clock'].toFixed(0)} ns CPU/iter`)
  t.is(w.perIteration['syscalls:sys_enter_write'], 7) // exact: the counted window is the iteration
  t.is(w.iterations, samples.latency!.samplesCount) // run phase only, one window per sample
  t.true(userHook > w.iterations, 'the task own beforeEach ran too (warm-up included)')
  const touch = perf.counts('touch32pages')!
  t.log(`touch32pages: ${touch.perIteration['page-faults'].toFixed(2)} page faults/iter`)
  // Whether a 128 KiB Buffer gets fresh pages depends on the allocator reusing freed memory (9.5 to
  // 23 faults per iteration were seen): it faults, and the noop does not.
  const noopFaults = perf.counts('noop')!.perIteration['page-faults']
  t.true(touch.perIteration['page-faults'] >= 1 && touch.perIteration['page-faults'] > noopFaults, `${touch.perIteration['page-faults']} vs noop ${noopFaults}`)
  t.is(perf.counts('noop')!.perIteration['syscalls:sys_enter_write'], 0)
  const rows = perf.table(bench)
  t.is(rows.length, 3)
  t.is(rows[0]['syscalls:sys_enter_write/iter'], 7)
  // The clock's column says its unit; counts have none.
  t.true((rows[0]['task-clock/iter (ns)'] as number) > 0)
  t.false('task-clock/iter' in rows[0])
  t.truthy(rows[0]['Task name'])
  t.is(perf.counts('nope'), undefined)
  t.throws(() => perf.hooks(1 as never), { instanceOf: TypeError })
  perf.close()
})

test.serial('mitata: counts per iteration in measure() results through its counters hook (real mitata)', async (t) => {
  const stats = (await measure(() => writes(3), { $counters: mitataCounters(['task-clock', 'syscalls:sys_enter_write']) } as never)) as {
    avg: number
    counters: Record<string, { avg: number; min: number; max: number; total: bigint; iterations: number }>
  }
  const w = stats.counters['syscalls:sys_enter_write']
  t.log(`mitata: ${stats.avg.toFixed(0)} ns/iter, ${w.avg} writes/iter over ${w.iterations} iterations, ${stats.counters['task-clock'].avg.toFixed(0)} ns CPU/iter`)
  t.is(w.avg, 3)
  t.is(w.min, 3)
  t.is(w.max, 3)
  t.is(w.total, BigInt(3 * w.iterations))
  t.true(stats.counters['task-clock'].avg > 0)
})

test.serial('OpenTelemetry: observable counters of the whole process, exported by the SDK in-memory exporter (real sdk-metrics)', async (t) => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  // Brackets for the CPU time: the work alone (lower bound) and everything from before the
  // counters open until after the export has read them (upper bound).
  const outer0 = process.cpuUsage()
  const observed = observeProcessCounters(provider.getMeter('test'), { events: ['task-clock', 'page-faults', 'syscalls:sys_enter_write'], attributes: { service: 't' } })
  t.deepEqual(observed.names, ['perf.task_clock', 'perf.page_faults', 'perf.syscalls_sys_enter_write'])
  const u0 = process.cpuUsage()
  // Work on the libuv pool and on the JS thread.
  await Promise.all(Array.from({ length: 4 }, () => new Promise((r) => pbkdf2('pw', 'salt', 250_000, 64, 'sha512', r))))
  writes(1000)
  Buffer.alloc(256 * 4096).fill(1)
  const u = process.cpuUsage(u0)
  await reader.forceFlush()
  const outer = process.cpuUsage(outer0)
  const metrics = exporter.getMetrics().at(-1)!.scopeMetrics[0].metrics
  const point = (name: string) => {
    const m = metrics.find((x) => x.descriptor.name === name)!
    return { value: m.dataPoints[0].value as number, unit: m.descriptor.unit, attributes: m.dataPoints[0].attributes }
  }
  const cpu = point('perf.task_clock')
  const cpuMs = (u.user + u.system) / 1000
  const outerMs = (outer.user + outer.system) / 1000
  t.log(`perf.task_clock ${(cpu.value / 1e6).toFixed(2)} ms vs process.cpuUsage ${cpuMs} ms (work) to ${outerMs} ms (open to export); perf.page_faults ${point('perf.page_faults').value}`)
  t.is(cpu.unit, 'ns')
  t.is(cpu.attributes['process.pid'], process.pid)
  t.is(cpu.attributes.service, 't')
  t.true(cpu.value / 1e6 >= cpuMs * 0.98 && cpu.value / 1e6 <= outerMs * 1.02, `${cpu.value / 1e6} ms not within [${cpuMs}, ${outerMs}] ms ±2 %`)
  t.true(point('perf.syscalls_sys_enter_write').value >= 1000)
  t.true(point('perf.page_faults').value > 0) // fewer than 256: transparent huge pages fault 2 MiB at once
  t.is(point('perf.page_faults').unit, '{event}')
  observed.close()
  observed.close()
  t.true(observed.counter.closed)
  await provider.shutdown()
  t.throws(() => observeProcessCounters({} as never), { instanceOf: TypeError, message: /Expected an @opentelemetry\/api Meter/ })
})

test.serial('OpenTelemetry: a clock in any spelling is perf.<perf name> in ns (typed object, PMU form, modifiers)', async (t) => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  const events = [{ type: 'software', name: 'taskClock' } as const, 'software/config=0/', 'page-faults:u', { type: 'software', name: 'pageFault' } as const]
  const observed = observeProcessCounters(provider.getMeter('test'), { events })
  t.deepEqual(observed.names, ['perf.task_clock', 'perf.cpu_clock', 'perf.page_faults', 'perf.page_faults'])
  const end = process.cpuUsage().user + 20_000
  while (process.cpuUsage().user < end);
  await reader.forceFlush()
  const metrics = exporter.getMetrics().at(-1)!.scopeMetrics[0].metrics
  const units = Object.fromEntries(metrics.map((m) => [m.descriptor.name, m.descriptor.unit]))
  t.deepEqual(units, { 'perf.task_clock': 'ns', 'perf.cpu_clock': 'ns', 'perf.page_faults': '{event}' })
  const cpu = metrics.find((m) => m.descriptor.name === 'perf.task_clock')!.dataPoints[0].value as number
  t.true(cpu >= 20e6, `${cpu} ns of task-clock after 20 ms of user CPU time`)
  observed.close()
  await provider.shutdown()
})
