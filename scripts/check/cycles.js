#!/usr/bin/env node
// Fails when the modules of lib/ (and its sub-directories: lib/profile/, lib/adapters/…) import each
// other in a cycle (type-only imports count too: a cycle of types is still two modules that cannot be
// understood one without the other). Relative imports are followed across directories (`../errors`,
// `./profile/model`, `./profile` for its index.ts).
// Usage: node scripts/check/cycles.js [dir]   (default: lib). Run by `npm run typecheck`.
'use strict'
const { readdirSync, readFileSync } = require('node:fs')
const { join, dirname, relative, resolve, sep } = require('node:path')

const dir = resolve(process.argv[2] ?? join(__dirname, '..', '..', 'lib'))

/** Every .ts module under `d` (not .d.ts), as a path relative to `dir` without the extension. */
function modulesUnder(d) {
  const out = []
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    const path = join(d, entry.name)
    if (entry.isDirectory()) out.push(...modulesUnder(path))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(dir, path).slice(0, -3).split(sep).join('/'))
  }
  return out
}
const modules = modulesUnder(dir).sort()
const known = new Set(modules)

/** The module a relative specifier names: `x.ts`, or `x/index.ts` for a directory. */
function resolveImport(from, spec) {
  const base = relative(dir, resolve(dir, dirname(from), spec.replace(/\.(js|ts)$/, ''))).split(sep).join('/')
  if (known.has(base)) return base
  if (known.has(`${base}/index`)) return `${base}/index`
  return undefined
}

/** `import … from './x'`, `import '../x'`, `export … from './x'` (multi-line too), without comments. */
function importsOf(from, source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
  const found = new Set()
  const re = /(?:^|[;\n])\s*(?:import|export)\b(?:[^;'"]*?\bfrom)?\s*['"](\.\.?\/[^'"]+)['"]/g
  for (const m of code.matchAll(re)) {
    const target = resolveImport(from, m[1])
    if (target !== undefined) found.add(target)
  }
  return [...found]
}

const graph = new Map(modules.map((m) => [m, importsOf(m, readFileSync(join(dir, `${m}.ts`), 'utf8'))]))

// Depth-first search; a back edge to a module on the current path closes a cycle.
const cycles = []
const state = new Map() // undefined: new, 1: on the path, 2: done
function visit(m, path) {
  state.set(m, 1)
  path.push(m)
  for (const next of graph.get(m)) {
    if (state.get(next) === 1) cycles.push([...path.slice(path.indexOf(next)), next])
    else if (state.get(next) === undefined) visit(next, path)
  }
  path.pop()
  state.set(m, 2)
}
for (const m of modules) if (state.get(m) === undefined) visit(m, [])

if (cycles.length) {
  for (const c of cycles) console.error(`import cycle in ${dir}: ${c.map((m) => `${m}.ts`).join(' -> ')}`)
  process.exit(1)
}
const dirs = new Set(modules.map((m) => (m.includes('/') ? m.slice(0, m.lastIndexOf('/') + 1) : '')))
const edges = [...graph.values()].reduce((n, e) => n + e.length, 0)
console.log(`no import cycles among ${modules.length} modules (${edges} imports) of ${dir} and its sub-directories ${[...dirs].filter(Boolean).join(', ') || '(none)'}`)
