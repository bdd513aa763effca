// The OpenTelemetry adapter into a real metrics backend: Prometheus (Debian's `prometheus`, installed by
// .ci/run) scrapes an app that exports perf-event-open's whole-process counters through
// @opentelemetry/exporter-prometheus, and the test reads the series back from Prometheus' HTTP API.
import test from 'ava'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const ROOT = join(import.meta.dirname, '..')
const prometheus = spawnSync('prometheus', ['--version'], { encoding: 'utf8' })
const why = prometheus.error ? 'prometheus is not installed (Debian package prometheus; .ci/run installs it)' : undefined
if (why) console.log(`prometheus.spec: skipped: ${why}`)
const promTest = why ? test.skip : test

/** A TCP port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  s.close()
  await once(s, 'close')
  return port
}

/** The next JSON line a child prints. */
function lines(child: ChildProcess): () => Promise<any> {
  const rl = createInterface({ input: child.stdout! })
  const queue: string[] = []
  const waiting: ((l: string) => void)[] = []
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)))
  return () => new Promise((resolve) => (queue.length ? resolve(JSON.parse(queue.shift()!)) : waiting.push((l) => resolve(JSON.parse(l)))))
}

/** Prometheus' instant query: [metric name, value] of each series. */
async function query(base: string, q: string): Promise<[string, number][]> {
  const r = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: { __name__: string }; value: [number, string] }[] } }
  return r.data.result.map((s) => [s.metric.__name__, Number(s.value[1])])
}

promTest('OpenTelemetry → @opentelemetry/exporter-prometheus → Prometheus: task-clock matches process.cpuUsage(), page-faults cover the touched pages', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-prometheus-'))
  const [appPort, promPort] = [await freePort(), await freePort()]
  const app = spawn(process.execPath, [join(ROOT, '__test__/fixtures/otel-prometheus-app.js'), String(appPort), join(ROOT, 'dist/adapters/opentelemetry.js')], { stdio: ['ignore', 'pipe', 'inherit'] })
  const next = lines(app)
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:${appPort}']\n`)
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' })
  try {
    const ready = await next()
    t.log(`app: ${ready.cpuNs} ns of CPU since the counters opened, ${ready.pages} fresh pages; instruments ${ready.names.join(', ')}`)
    const base = `http://127.0.0.1:${promPort}`
    // Wait for a scrape taken after the workload (bounded: 120 tries; Prometheus scrapes every second).
    let clock: [string, number][] = []
    let faults: [string, number][] = []
    for (let i = 0; i < 120; i++) {
      try {
        clock = await query(base, '{__name__=~"perf_task_clock.*"}')
        faults = await query(base, '{__name__=~"perf_page_faults.*"}')
        if (clock.length && faults.length && clock[0][1] >= ready.cpuNs * 0.9) break
      } catch {} // Prometheus still starting
      await new Promise((r) => setTimeout(r, 500))
    }
    app.kill('SIGTERM')
    const end = await next()
    t.log(`Prometheus: ${clock.map(([n, v]) => `${n} = ${v}`).join(', ')}; ${faults.map(([n, v]) => `${n} = ${v}`).join(', ')}; app's CPU at exit ${end.cpuNs} ns`)
    t.is(clock.length, 1, 'one task-clock series (process total)')
    t.is(faults.length, 1, 'one page-faults series')
    // The scraped total lies between the app's CPU after the workload and at exit (the exporter's own
    // serving adds a little), within 5 % for the clocks' different bookkeeping.
    const v = clock[0][1]
    t.true(v >= ready.cpuNs * 0.95 && v <= end.cpuNs * 1.05, `task-clock ${v} ns vs process.cpuUsage ${ready.cpuNs}..${end.cpuNs} ns`)
    t.true(faults[0][1] >= ready.pages && faults[0][1] < ready.pages + 20_000, `page-faults ${faults[0][1]} for ${ready.pages} fresh pages`)
  } finally {
    app.kill('SIGKILL')
    prom.kill('SIGTERM')
    await once(prom, 'exit').catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
})
