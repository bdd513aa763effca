// No stray files: `record -- cmd` (and so profileCommand) removes what the command's Node processes
// wrote because of --perf-basic-prof (V8's /tmp/perf-<pid>.map and isolate-…-v8.log in the working
// directory), for the command and the Node processes it starts, and keeps a V8 log asked for.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname

/** Runs `record -o out.pb.gz -- …cmd` in a fresh directory; the command's Node processes append their pids to a file outside it. */
function recordIn(cmd: string[]): { dir: string; pids: number[]; status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pe-leftovers-'))
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'pe-leftover-pids-')), 'pids')
  const r = spawnSync(process.execPath, [CLI, 'record', '-o', 'out.pb.gz', '--', ...cmd], { encoding: 'utf8', cwd: dir, env: { ...process.env, PIDS_FILE: pidsFile }, timeout: 120_000 })
  const pids = existsSync(pidsFile) ? readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number) : []
  return { dir, pids, status: r.status, stderr: r.stderr }
}

// A Node program that burns some CPU on its main thread and in a worker (each isolate writes a v8.log).
const NODE_PROGRAM = `require('fs').appendFileSync(process.env.PIDS_FILE, process.pid + '\\n');
const { Worker } = require('worker_threads');
new Worker('let s = 0; for (let i = 0; i < 2e7; i++) s += i % 7', { eval: true });
let s = 0; for (let i = 0; i < 2e7; i++) s += i % 7`

test('record of a Node command and the Node processes it starts leaves only its output: no v8.log, no perf map', (t) => {
  const r = recordIn(['sh', '-c', `node -e "$1" && node -e "$1"`, 'sh', NODE_PROGRAM])
  t.is(r.status, 0, r.stderr)
  t.is(r.pids.length, 2, 'both Node processes ran')
  t.deepEqual(readdirSync(r.dir), ['out.pb.gz'], 'only the output in the working directory')
  for (const pid of r.pids) t.false(existsSync(`/tmp/perf-${pid}.map`), `no /tmp/perf-${pid}.map left`)
  rmSync(r.dir, { recursive: true })
})

test('record keeps the V8 log that --prof asked for, also from a Node process the command starts', (t) => {
  // The log's records say it was asked for (ticks, code events), wherever the flag was given.
  const r = recordIn(['sh', '-c', 'node --prof -e "$1"', 'sh', NODE_PROGRAM])
  t.is(r.status, 0, r.stderr)
  const logs = readdirSync(r.dir).filter((f) => f.endsWith('-v8.log'))
  t.true(logs.length >= 1, `--prof's log stays (${readdirSync(r.dir).join(', ')})`)
  t.false(existsSync(`/tmp/perf-${r.pids[0]}.map`), 'its perf map is removed')
  rmSync(r.dir, { recursive: true })
})

test('the perf map of a process the command started that is still running stays (it is in use)', (t) => {
  // The command (sh) ends once its background Node process has burnt CPU and written its pid; that
  // process lives on, so its map is still V8's and stays.
  const lingering = `let s = 0; for (let i = 0; i < 2e7; i++) s += i % 7; require('fs').appendFileSync(process.env.PIDS_FILE, process.pid + '\\n'); setTimeout(() => {}, 60_000)`
  const r = recordIn(['sh', '-c', `node -e "$1" >/dev/null 2>&1 & for i in $(seq 1200); do [ -s "$PIDS_FILE" ] && break; sleep 0.05; done`, 'sh', lingering])
  try {
    t.is(r.status, 0, r.stderr)
    t.is(r.pids.length, 1)
    t.true(existsSync(`/tmp/perf-${r.pids[0]}.map`), 'the running process keeps its perf map')
  } finally {
    for (const pid of r.pids) process.kill(pid, 'SIGKILL')
    rmSync(r.dir, { recursive: true })
  }
})
