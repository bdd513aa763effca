// The symbolizer addon (symbolize/) ships as `perf-event-open-symbolize` plus one platform package per
// target of variants.json (symbolize/npm/<platform>/), built once per target: it does not depend on the
// kernel variant. `perf-event-open` lists `perf-event-open-symbolize` as an optional dependency (written
// at publish time by `scripts/pack/npm-packages.js --pre-publish`), and `perf-event-open-symbolize` lists its
// platform packages as optional dependencies, so the package manager installs the one matching the
// user's cpu and libc, where the generated loader (symbolize/index.js) looks for it.
//   node scripts/pack/symbolize-packages.js                write symbolize/npm/<platform>/{package.json,README.md,LICENSE},
//                                                     symbolize/{LICENSE,README.md} and the version, publishing fields and
//                                                     optionalDependencies of symbolize/package.json
//   node scripts/pack/symbolize-packages.js --check        fail if anything is stale (CI)
//   node scripts/pack/symbolize-packages.js --pre-publish  also refuse a platform package without its .node
// scripts/pack/npm-packages.js runs the same checks through `symbolizePackages()`.
const fs = require('node:fs')
const path = require('node:path')
const naming = require('../../lib/loading/naming.js')
const { platformPackageJson } = require('../lib/variants')

const ROOT = path.join(__dirname, '..', '..')
const DIR = path.join(ROOT, 'symbolize')
const pkgPath = path.join(DIR, 'package.json')
const NAME = 'perf-event-open-symbolize'
const binaryName = (platform) => `${NAME}.${platform}.node`
const packageName = (platform) => `${NAME}-${platform}`
const packageDir = (platform) => path.join(DIR, 'npm', platform)

/**
 * Writes (mode 'write') or checks (modes 'check', 'pre-publish') the symbolizer's packages.
 * @returns {{ stale: string[], problems: string[], name: string, version: string }}
 */
function symbolizePackages(mode = 'write') {
  const check = mode !== 'write'
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'))
  const stale = []
  const problems = []
  const write = (file, text) => {
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined
    if (old === text) return
    stale.push(path.relative(ROOT, file))
    if (!check) {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, text)
    }
  }
  if (pkg.name !== NAME) problems.push(`symbolize/package.json is named ${pkg.name}, expected ${NAME}`)
  const triples = naming.TARGETS.map((t) => t.triple)
  if (JSON.stringify(pkg.napi?.targets) !== JSON.stringify(triples)) {
    problems.push(`symbolize/package.json napi.targets ${JSON.stringify(pkg.napi?.targets)} != variants.json targets ${JSON.stringify(triples)}`)
  }
  const optional = {}
  for (const t of naming.TARGETS) {
    const name = packageName(t.platform)
    const bin = binaryName(t.platform)
    optional[name] = root.version
    const p = platformPackageJson(root, {
      name,
      bin,
      target: t,
      description: `perf-event-open symbolizer (blazesym + inferno) for ${t.platform}; one build for every kernel`,
    })
    const dir = packageDir(t.platform)
    write(path.join(dir, 'package.json'), `${JSON.stringify(p, null, 2)}\n`)
    write(path.join(dir, 'LICENSE'), license)
    write(
      path.join(dir, 'README.md'),
      `# ${name}\n\nThe \`${t.triple}\` binary of the symbolizer of [perf-event-open](https://www.npmjs.com/package/perf-event-open). Install \`perf-event-open\` (it depends optionally on \`${NAME}\`, which depends optionally on this package), not this package.\n`,
    )
    if (mode === 'pre-publish' && !fs.existsSync(path.join(dir, bin))) problems.push(`${path.relative(ROOT, dir)} has no ${bin}`)
  }
  const { optionalDependencies: _, ...rest } = pkg
  const want = {
    ...rest,
    version: root.version,
    license: root.license,
    author: root.author,
    repository: root.repository,
    publishConfig: root.publishConfig,
    optionalDependencies: optional,
  }
  write(pkgPath, `${JSON.stringify(want, null, 2)}\n`)
  write(path.join(DIR, 'LICENSE'), license)
  write(
    path.join(DIR, 'README.md'),
    `# ${NAME}\n\nThe symbolizer and flame graph writer of [perf-event-open](https://www.npmjs.com/package/perf-event-open) (blazesym: ELF symbols, DWARF lines, V8's perf map, vDSO, \`/proc/kallsyms\`; inferno for SVG flame graphs; fxprof-processed-profile for the Firefox Profiler format). One build per platform (\`${NAME}-linux-{x64,arm64}-{gnu,musl}\`, optional dependencies: your package manager installs the one for your CPU and libc), independent of the kernel. \`perf-event-open\` depends on it optionally and loads it only when it builds a profile; install \`perf-event-open\`, not this package.\n\nIt also unwinds copied user stacks (\`Unwinder\`, with framehop: DWARF CFI from \`.eh_frame\`/\`.debug_frame\` through native code, frame pointers through V8's JIT code) for samples taken with \`sampleFormat.userStack\` and \`sampleFormat.userRegs\`; \`perf-event-open\` wraps it as \`StackUnwinder\` (\`lib/profile/unwind.ts\`) and uses it for off-CPU stacks.\n`,
  )
  if ((want.files ?? []).some((f) => f.includes('.node'))) problems.push('symbolize/package.json "files" names a .node: binaries ship only in the platform packages')
  return { stale, problems, name: NAME, version: root.version }
}

module.exports = { symbolizePackages, NAME, DIR, binaryName, packageName, packageDir }

if (require.main === module) {
  const arg = process.argv[2] ?? '--write'
  const mode = { '--write': 'write', '--check': 'check', '--pre-publish': 'pre-publish' }[arg]
  if (!mode) {
    console.error('usage: node scripts/pack/symbolize-packages.js [--check | --pre-publish]')
    process.exit(2)
  }
  const { stale, problems } = symbolizePackages(mode)
  if (mode !== 'write' && stale.length) problems.push(`stale (run node scripts/pack/symbolize-packages.js): ${stale.join(', ')}`)
  if (problems.length) {
    for (const p of problems) console.error(p)
    process.exit(1)
  }
  console.log(
    mode === 'write'
      ? `wrote ${stale.length} file(s)`
      : mode === 'check'
        ? 'symbolize/npm and its optionalDependencies are up to date'
        : 'every symbolizer platform package has its binary',
  )
}
