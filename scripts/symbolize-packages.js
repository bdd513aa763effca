// The symbolizer addon (symbolize/) ships as `perf-event-open-symbolize` plus one platform package per
// target (npm/<platform>/ under symbolize/), built once per target: it does not depend on the kernel variant.
// Writes symbolize/npm/<platform>/package.json and the optionalDependencies of symbolize/package.json.
//   node scripts/symbolize-packages.js          write
//   node scripts/symbolize-packages.js --check  fail if anything is stale (CI)
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const DIR = path.join(ROOT, 'symbolize')
const check = process.argv.includes('--check')
const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const pkgPath = path.join(DIR, 'package.json')
const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'))
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

const TARGETS = [
  { platform: 'linux-x64-gnu', cpu: 'x64', libc: 'glibc' },
  { platform: 'linux-arm64-gnu', cpu: 'arm64', libc: 'glibc' },
  { platform: 'linux-x64-musl', cpu: 'x64', libc: 'musl' },
  { platform: 'linux-arm64-musl', cpu: 'arm64', libc: 'musl' },
]
const optional = {}
for (const t of TARGETS) {
  const name = `${pkg.name}-${t.platform}`
  const bin = `${pkg.napi.binaryName}.${t.platform}.node`
  optional[name] = root.version
  const p = {
    name,
    version: root.version,
    description: `perf-event-open symbolizer (blazesym + inferno) for ${t.platform}; any kernel`,
    main: bin,
    files: [bin],
    license: root.license,
    os: ['linux'],
    cpu: [t.cpu],
    libc: [t.libc],
    engines: root.engines,
  }
  const dir = path.join(DIR, 'npm', t.platform)
  write(path.join(dir, 'package.json'), `${JSON.stringify(p, null, 2)}\n`)
  write(path.join(dir, 'README.md'), `# ${name}\n\nThe \`${t.platform}\` binary of the symbolizer of [perf-event-open](https://www.npmjs.com/package/perf-event-open). Install \`perf-event-open-symbolize\` (or \`perf-event-open\`, which lists it as optional), not this package.\n`)
}
const want = { ...pkg, version: root.version, optionalDependencies: optional }
write(pkgPath, `${JSON.stringify(want, null, 2)}\n`)
if (check && stale.length) {
  console.error(`stale (run node scripts/symbolize-packages.js): ${stale.join(', ')}`)
  process.exit(1)
}
console.log(check ? 'symbolize/npm and its optionalDependencies are up to date' : `wrote ${stale.length} file(s)`)
