// Electron safety, checked on the built binary: Electron >= 21 refuses external ArrayBuffers,
// loads N-API addons without rebuilds only if they use nothing but N-API, and runs
// addons in renderer/worker environments that come and go.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { buildInfo, Counter } from '../dist/index.js'

const undefinedSymbols = () =>
  execFileSync('nm', ['-D', '--undefined-only', buildInfo().path], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop()!)
    .filter(Boolean)

test('the .node imports only napi_* and libc/libgcc symbols', (t) => {
  const syms = undefinedSymbols()
  t.true(syms.some((s) => s.startsWith('napi_')))
  const weakLinkerSymbols = ['_ITM_deregisterTMCloneTable', '_ITM_registerTMCloneTable', '__gmon_start__']
  // glibc symbols are versioned (@GLIBC_x.y, libgcc's @GCC_x.y); musl's are not, so there only the
  // absence of runtime internals below is checked.
  if (!buildInfo().target.endsWith('musl')) {
    const other = syms.filter((s) => !s.startsWith('napi_') && !/@(GLIBC|GCC)_[\d.]+$/.test(s) && !weakLinkerSymbols.includes(s))
    t.deepEqual(other, [], `non-N-API imports: ${other.join(', ')}`)
  }
  t.false(syms.some((s) => /^(uv_|_ZN2v8|_ZN4node)/.test(s)), 'no libuv, V8 or node internals')
})

test('the .node never creates external buffers (refused by Electron >= 21)', (t) => {
  const external = undefinedSymbols().filter((s) => /napi_create_external_(array)?buffer/.test(s))
  t.deepEqual(external, [])
})

const workerCode = (mode: 'count' | 'hold') => `
const { parentPort } = require('node:worker_threads')
const { Counter } = require(${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)})
const c = new Counter('task-clock')
c.enable()
let x = 0; for (let i = 0; i < 2e6; i++) x += i
c.disable()
parentPort.postMessage(String(c.stat().count))
${mode === 'count' ? 'c.close()' : 'setInterval(() => {}, 1000)'}
`

test('load, use and close in workers; a worker terminated with an open counter does not break the next one', async (t) => {
  const runWorker = async (mode: 'count' | 'hold') => {
    const w = new Worker(workerCode(mode), { eval: true })
    // Listen for 'exit' from the start: a worker that closes its counter may exit before
    // the 'message' continuation runs.
    const exited = new Promise((res) => w.once('exit', res))
    const count = await new Promise<string>((res, rej) => {
      w.once('message', res)
      w.once('error', rej)
    })
    if (mode === 'hold') await w.terminate()
    await exited
    return BigInt(count)
  }
  t.true((await runWorker('hold')) > 0n)
  t.true((await runWorker('count')) > 0n)
  t.true((await runWorker('hold')) > 0n)
  using c = new Counter('task-clock')
  t.true(c.measure(() => 1).stat.count >= 0n)
})
