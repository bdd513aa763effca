// Generates npm/<platform>[-<variant>]/package.json for every target x variant of
// variants.json, and the root package.json's optionalDependencies.
//   node scripts/npm-packages.js          write
//   node scripts/npm-packages.js --check  fail if anything is stale (CI)
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, variants, targets, binaryName, packageName, packageDir } = require('./variants')

const check = process.argv.includes('--check')
const rootPkgPath = path.join(ROOT, 'package.json')
const root = JSON.parse(fs.readFileSync(rootPkgPath, 'utf8'))
const stale = []

function write(file, text) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined
  if (old === text) return
  stale.push(path.relative(ROOT, file))
  if (!check) {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, text)
  }
}

const optional = {}
for (const t of targets) {
  for (const v of variants) {
    const name = packageName(t.platform, v.name)
    const bin = binaryName(t.platform, v.name)
    optional[name] = root.version
    const pkg = {
      name,
      version: root.version,
      description: `perf-event-open native binary for ${t.platform}, Linux ${v.kernel}+ (${v.distros}; crate feature ${v.feature})`,
      main: bin,
      files: [bin],
      license: root.license,
      os: ['linux'],
      cpu: [t.cpu],
      ...(t.libc ? { libc: [t.libc] } : {}),
      engines: root.engines,
      ...(root.repository ? { repository: root.repository } : {}),
    }
    const dir = packageDir(t.platform, v.name)
    write(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
    write(path.join(dir, 'README.md'), `# ${name}\n\nThe \`${t.triple}\` binary of [perf-event-open](https://www.npmjs.com/package/perf-event-open) for Linux ${v.kernel} and newer (${v.distros}). Install \`perf-event-open\`, not this package: it picks the binary that fits the running kernel.\n`)
  }
}
// npm keeps dependency maps sorted by name, so compare and write them sorted.
const sorted = Object.fromEntries(Object.entries(optional).sort(([a], [b]) => a.localeCompare(b)))
const current = Object.fromEntries(Object.entries(root.optionalDependencies ?? {}).sort(([a], [b]) => a.localeCompare(b)))
if (JSON.stringify(current) !== JSON.stringify(sorted)) {
  write(rootPkgPath, `${JSON.stringify({ ...root, optionalDependencies: sorted }, null, 2)}\n`)
}

if (check && stale.length) {
  console.error(`stale (run node scripts/npm-packages.js): ${stale.join(', ')}`)
  process.exit(1)
}
console.log(check ? 'npm/ and optionalDependencies are up to date' : `wrote ${stale.length} file(s)`)
