// The README's variant table and its count of binaries are written from variants.json, the one list
// of kernel variants, by scripts/pack/npm-packages.js: this fails when the two disagree (a variant
// added, renamed or re-featured without running the script).
import test from 'ava'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { REPO } from './helpers.ts'

interface VariantsJson {
  default: string
  variants: { name: string; kernel: string; feature: string; distros: string }[]
  targets: { platform: string }[]
}
const VARIANTS = JSON.parse(readFileSync(join(REPO, 'variants.json'), 'utf8')) as VariantsJson
const README = readFileSync(join(REPO, 'README.md'), 'utf8')

/** The table row of a variant, as scripts/pack/npm-packages.js writes it. */
const row: (v: VariantsJson['variants'][number]) => string = createRequire(import.meta.url)('../scripts/lib/variants.js').variantRow

test("README's variant table is variants.json's list, in order, row by row", (t) => {
  const header = '| variant | for kernels | built with crate feature | typical distros |\n|---|---|---|---|\n'
  const at = README.indexOf(header)
  t.true(at >= 0, 'the table header')
  const rows = README.slice(at + header.length).split('\n')
  const table = rows.slice(0, rows.findIndex((l) => !l.startsWith('|')))
  t.deepEqual(table, VARIANTS.variants.map(row))
})

test("README's count of binaries a full install would put on disk is the number of variants", (t) => {
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve']
  const m = /one [0-9.]+ MB binary on disk instead of ([a-z]+)\./.exec(README)
  t.truthy(m, 'the sentence on the default install')
  t.is(m![1], words[VARIANTS.variants.length])
  t.regex(README, new RegExp(`only \`${VARIANTS.default}\` is a dependency of \`perf-event-open\``))
})
