// Issue 21: every entry point resolves with types in every resolution mode, node10 (older Electron
// and webpack templates: moduleResolution "node") included: @arethetypeswrong/cli on the packed
// package finds no problem (the same check runs in .ci/run).
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { REPO } from './helpers.ts'

test('attw --pack: no problem for ".", tinybench, mitata, opentelemetry in node10, node16 (CJS and ESM) and bundler', (t) => {
  const r = spawnSync(process.execPath, [`${REPO}/node_modules/@arethetypeswrong/cli/dist/index.js`, '--pack', '.', '--format', 'json'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName?: string } }> }> } }
  t.deepEqual(out.analysis.problems, [])
  const pkg = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { exports: Record<string, unknown> }
  const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json')
  t.deepEqual(Object.keys(out.analysis.entrypoints).filter((k) => k !== './package.json').sort(), entries.sort())
  for (const e of entries) {
    for (const mode of ['node10', 'node16-cjs', 'node16-esm', 'bundler']) {
      const file = out.analysis.entrypoints[e].resolutions[mode]?.resolution?.fileName ?? ''
      t.regex(file, /\.d\.ts$/, `${e} ${mode}: ${file}`)
    }
  }
})

test('peer dependency ranges are bounded above', (t) => {
  const pkg = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { peerDependencies: Record<string, string> }
  for (const [name, range] of Object.entries(pkg.peerDependencies)) {
    if (name === '@types/node') continue // types follow the user's Node version
    t.regex(range, /<\d/, `${name}: ${range}`)
  }
})
