// The top-level index.js ('perf-event-open/binding'): written from index.d.ts by
// scripts/build/binding-entry.js, it exports every value index.d.ts declares, and each is the very
// function the kernel-aware loader loaded for the facade (clone-pack.spec checks the packed copy).
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { buildInfo } from '../dist/index.js'
import { REPO } from './helpers.ts'

const require = createRequire(import.meta.url)

test('index.js is what scripts/build/binding-entry.js writes from index.d.ts', (t) => {
  t.regex(execFileSync(process.execPath, [join(REPO, 'scripts', 'build', 'binding-entry.js'), '--check'], { encoding: 'utf8' }), /index\.js is up to date \(\d+ exports/)
})

test("index.js exports each value of index.d.ts, the loaded .node's own, by name for require and import", async (t) => {
  const declared = [...readFileSync(join(REPO, 'index.d.ts'), 'utf8').matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1])
  t.true(declared.length >= 10, declared.join(' '))
  const entry = require(join(REPO, 'index.js')) as Record<string, unknown>
  const native = require(buildInfo().path) as Record<string, unknown>
  t.deepEqual(Object.keys(entry).sort(), [...declared].sort())
  for (const name of declared) {
    t.is(typeof native[name], 'function', name)
    t.is(entry[name], native[name], name)
  }
  // ES modules see the same names (Node's CommonJS lexer reads the `exports.X =` lines).
  const esm = (await import(join(REPO, 'index.js'))) as Record<string, unknown>
  for (const name of declared) t.is(esm[name], native[name], `import { ${name} }`)
})
