#!/usr/bin/env node
// Fails when the modules of lib/ import each other in a cycle (type-only imports count too:
// a cycle of types is still two modules that cannot be understood one without the other).
// Usage: node scripts/check-cycles.js [dir]   (default: lib). Run by `npm run typecheck`.
'use strict'
const { readdirSync, readFileSync } = require('node:fs')
const { join, basename } = require('node:path')

const dir = process.argv[2] ?? join(__dirname, '..', 'lib')
const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => basename(f, '.ts'))

/** `import … from './x'`, `import './x'`, `export … from './x'` (multi-line too), without comments. */
function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
  const found = new Set()
  const re = /(?:^|[;\n])\s*(?:import|export)\b(?:[^;'"]*?\bfrom)?\s*['"]\.\/([^'"]+)['"]/g
  for (const m of code.matchAll(re)) found.add(m[1].replace(/\.(js|ts)$/, ''))
  return [...found].filter((m) => modules.includes(m))
}

const graph = new Map(modules.map((m) => [m, importsOf(readFileSync(join(dir, `${m}.ts`), 'utf8'))]))

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
console.log(`no import cycles among ${modules.length} modules of ${dir}`)
