// A small app that spends its time in three ways, for wall-time and off-CPU profiles:
//   - the main thread spins for 100 ms of CPU (spinMain),
//   - a worker parks in Atomics.wait for 300 ms (parkInWorker), then writes into a FIFO (feedFifo),
//   - meanwhile the main thread blocks in fs.readFileSync of that FIFO (readFifo: a FIFO blocks in open()).
// Profile it with the CLI (the README's "Where your threads wait"):
//   npx perf-event-open record --wall -o wall.svg -- node examples/wall-app.js
// It needs nothing but Node, and removes its FIFO when done.
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Worker, isMainThread, workerData } = require('node:worker_threads')

/** CPU time of this thread, ns (a wall clock would count time the thread spends waiting). */
function cpuNs() {
  return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
}

function spinMain(ms) {
  const end = cpuNs() + ms * 1e6
  let x = 0
  while (cpuNs() < end) for (let i = 0; i < 10000; i++) x += Math.sqrt(i)
  return x
}

function parkInWorker(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function feedFifo(fifo) {
  fs.writeFileSync(fifo, 'written\n')
}

function readFifo(fifo) {
  return fs.readFileSync(fifo, 'utf8')
}

if (isMainThread) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wall-app-'))
  const fifo = path.join(dir, 'fifo')
  try {
    execFileSync('mkfifo', [fifo])
    const worker = new Worker(__filename, { workerData: { fifo } })
    spinMain(100)
    const text = readFifo(fifo)
    worker.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
    process.stdout.write(`read ${JSON.stringify(text)} from the FIFO\n`)
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }
} else {
  parkInWorker(300)
  feedFifo(workerData.fifo)
}
