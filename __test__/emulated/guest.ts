// Helpers of the tests that run inside the emulated guests (scripts/emulated/run.sh). They run under
// Node's own test runner (node:test): the host transpiles them, the guest has no tsx or ava.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { Writable } from 'node:stream'
import { Counter, type CounterOptions } from 'perf-event-open'

/** The guest (`arm64`, `x64`) and who runs the file (`root`, or `user`: uid 1000 at perf_event_paranoid 2). */
export const GUEST = process.env.EMULATED_GUEST ?? ''
export const AS_USER = process.env.EMULATED_AS === 'user'

/** The fixture with an exactly known instruction count (__test__/fixtures/spin-aarch64.c) and where its functions are. */
export const SPIN = '/t/spin-aarch64'
export const SPIN_SYMBOLS: Record<'spin' | 'syscalls', [bigint, bigint]> = GUEST === 'arm64'
  ? Object.fromEntries(Object.entries(JSON.parse(readFileSync(`${SPIN}.json`, 'utf8')) as Record<string, [string, string]>).map(([k, [a, n]]) => [k, [BigInt(a), BigInt(a) + BigInt(n)]])) as never
  : ({} as never)

/**
 * Starts `file args` held before its exec (a shell waits on fd 3), lets `open(pid)` open perf events
 * on it (with `onExecve: 'enable'` they start at the exec, with the program's first instruction),
 * releases it and waits for its exit.
 */
export async function runHeld<T>(file: string, args: string[], open: (pid: number) => T): Promise<{ value: T; code: number | null }> {
  const child = spawn('/bin/sh', ['-c', 'read _ <&3; exec 3<&-; exec "$@"', 'sh', file, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] })
  await once(child, 'spawn')
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let value: T
  try {
    value = open(child.pid!)
  } catch (e) {
    child.kill('SIGKILL')
    await exited
    throw e
  }
  ;(child.stdio[3] as Writable).end('go\n')
  return { value, code: await exited }
}

/** Counts `events` of one run of `spin-aarch64 n k` from its exec to its exit. */
export async function countSpin(events: string[], n: number, k = 0, options: CounterOptions = {}): Promise<bigint[]> {
  const { value: counters, code } = await runHeld(SPIN, [String(n), String(k)], (pid) => events.map((e) => new Counter(e, { pid }, { onExecve: 'enable', ...options })))
  try {
    if (code !== 0) throw new Error(`spin-aarch64 ${n} ${k} exited with ${code}`)
    return counters.map((c) => c.stat().count)
  } finally {
    for (const c of counters) c.close()
  }
}

/**
 * `pages` pages that were never touched, and a function that writes one byte in each. The block is
 * above glibc's largest mmap threshold (32 MiB), so it is always a fresh mapping, never recycled heap.
 */
export function freshPages(pages = 64): () => number {
  const a = new Uint8Array(33 << 20)
  return () => {
    // Page 0 holds malloc's chunk header (already touched): pages 1..pages are fresh.
    for (let p = 1; p <= pages; p++) a[p * 4096 + 64] = 1
    return pages
  }
}

/** Busy JS: n iterations of a fixed loop. */
export function work(n: number): number {
  let x = 0
  for (let i = 0; i < n; i++) x = (x + i * 7) % 1000003
  return x
}
