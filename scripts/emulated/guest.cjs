'use strict'
// Runs inside an emulated guest (scripts/emulated/init.sh): each run of the guest's plan is one
// node:test file (transpiled on the host into /t) under given kernel settings, as root or as the
// unprivileged user `pu` (uid 1000). Prints the TAP output, then one line per run:
//   emulated-run: <label>: N passed, N failed, N skipped
// and exits 1 if any run failed or ran no test.
const { spawnSync } = require('node:child_process')
const { writeFileSync, existsSync } = require('node:fs')

const USER = { uid: 1000, gid: 1000 }
// JS function names in profiles come from V8's perf map; interpreted functions get frames of their
// own with --interpreted-frames-native-stack; no inlining keeps each function a frame (as perf sees it).
const NODE_ARGS = ['--perf-basic-prof', '--interpreted-frames-native-stack', '--no-turbo-inlining']
const sysctl = (name, value) => {
  const path = `/proc/sys/${name.replace(/\./g, '/')}`
  if (!existsSync(path)) return false
  writeFileSync(path, String(value))
  return true
}

/** @type {Record<string, { label: string, file: string, user?: boolean, sysctl?: Record<string, number>, env?: Record<string, string>, nodeArgs?: string[], bench?: boolean, plainNode?: boolean }[]>} */
const PLANS = {
  // Real armv8_pmuv3 driver, exact counts (-icount shift=0).
  arm64: [
    { label: 'arm64 portable hardware tests, root', file: 'hardware.test.cjs', sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 0 } },
    { label: 'arm64 portable hardware tests, user (paranoid 2)', file: 'hardware.test.cjs', user: true, sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 0 } },
    { label: 'arm64 root', file: 'arm64-pmu.test.cjs', sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 0 } },
    { label: 'arm64 user (paranoid 2)', file: 'arm64-pmu.test.cjs', user: true, sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 0 } },
    { label: 'arm64 user-space reads, root (perf_user_access 1)', file: 'arm64-rdpmc.test.cjs', sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 1 } },
    { label: 'arm64 user-space reads, user (perf_user_access 1)', file: 'arm64-rdpmc.test.cjs', user: true, sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 1 } },
    { label: 'arm64 user-space reads off, root (perf_user_access 0)', file: 'arm64-rdpmc.test.cjs', sysctl: { 'kernel.perf_event_paranoid': 2, 'kernel.perf_user_access': 0 } },
    // Not a test: instructions per stat() beside native read(2) (bench/icount/stat.ts).
    { label: 'arm64 icount bench (root)', file: 'icount-stat.cjs', bench: true, plainNode: true, sysctl: { 'kernel.perf_event_paranoid': 2 } },
  ],
  // A second real kernel (Debian 12's 6.1) for the x64 build; TCG has no PMU.
  x64: [
    { label: 'x64 root', file: 'kernel-6.1.test.cjs', sysctl: { 'kernel.perf_event_paranoid': 2 } },
    { label: 'x64 user (paranoid 2)', file: 'kernel-6.1.test.cjs', user: true, sysctl: { 'kernel.perf_event_paranoid': 2 } },
  ],
}

const guest = process.argv[2]
const plan = PLANS[guest]
if (!plan) {
  console.error(`emulated: unknown guest ${JSON.stringify(guest)}; guests: ${Object.keys(PLANS).join(', ')}`)
  process.exit(2)
}
// EMULATED_ONLY (run.sh passes it on the kernel command line as ONLY=…): run only the files named (comma list).
const only = (process.env.ONLY || '').split(',').filter(Boolean)
let bad = false
for (const run of plan.filter((r) => only.length === 0 || only.some((o) => r.file.startsWith(o)))) {
  if (!existsSync(`/t/${run.file}`)) {
    console.log(`emulated-run: ${run.label}: 0 passed, 1 failed, 0 skipped (/t/${run.file} is missing)`)
    bad = true
    continue
  }
  for (const [k, v] of Object.entries(run.sysctl ?? {})) if (!sysctl(k, v)) console.log(`# ${k} does not exist on this kernel`)
  const settings = Object.entries(run.sysctl ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')
  console.log(`\n## ${run.label}: node --test-reporter=tap /t/${run.file} (${run.user ? 'uid 1000' : 'root'}; ${settings})`)
  const r = spawnSync(process.execPath, [...(run.plainNode ? [] : NODE_ARGS), ...(run.nodeArgs ?? []), ...(run.bench ? [] : ['--test-reporter=tap']), `/t/${run.file}`], {
    cwd: '/tmp',
    encoding: 'utf8',
    env: { ...process.env, HOME: '/tmp', EMULATED_GUEST: guest, EMULATED_AS: run.user ? 'user' : 'root', ...(run.env ?? {}) },
    ...(run.user ? USER : {}),
    maxBuffer: 64 << 20,
  })
  process.stdout.write(r.stdout + r.stderr)
  if (run.bench) {
    if (r.status !== 0) console.log(`icount-bench: FAILED (exit ${r.status ?? r.signal})`)
    continue
  }
  const n = (key) => Number(new RegExp(`^# ${key} (\\d+)`, 'm').exec(r.stdout)?.[1] ?? 0)
  const [passed, failed, skipped] = [n('pass'), n('fail') + n('cancelled'), n('skipped')]
  if (failed > 0 || passed === 0 || r.status !== 0) bad = true
  console.log(`emulated-run: ${run.label}: ${passed} passed, ${failed} failed, ${skipped} skipped${r.status !== 0 ? ` (exit ${r.status ?? r.signal})` : ''}`)
}
process.exitCode = bad ? 1 : 0
