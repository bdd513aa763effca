// The npm packages of the release, generated from variants.json (one per target x variant):
//   node scripts/pack/npm-packages.js               write npm/<platform>[-<variant>]/{package.json,README.md,LICENSE}
//                                              and the README's variant table and binary count
//   node scripts/pack/npm-packages.js --check       fail if npm/ is stale or the root package.json names
//                                              platform packages (CI; keeps `npm ci` working on a clone)
//   node scripts/pack/npm-packages.js --pre-publish release only, after the binaries are placed in npm/
//                                              and symbolize/npm/: refuse a platform package without
//                                              its .node or a root package with one, then write the
//                                              root's optionalDependencies (what `napi pre-publish` does)
// Only the default variant of each target is an optional dependency of the root package: an
// install gets one binary, and the loader runs it on any kernel. The other variants are published
// for users who want the build that fits their kernel exactly (README "Platforms and kernels").
// The symbolizer (symbolize/, scripts/pack/symbolize-packages.js) is the other optional dependency:
// `perf-event-open-symbolize` at the same version, which brings its own platform package; every
// mode also writes/checks its packages, so one command covers the whole release.
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, variants, targets, default: defaultVariant, binaryName, packageName, packageDir, platformPackageJson, variantRow } = require('../lib/variants')
const { symbolizePackages } = require('./symbolize-packages')

const mode = process.argv[2] ?? '--write'
if (!['--write', '--check', '--pre-publish'].includes(mode)) {
  console.error('usage: node scripts/pack/npm-packages.js [--check | --pre-publish]')
  process.exit(2)
}
const check = mode !== '--write'
const rootPkgPath = path.join(ROOT, 'package.json')
const root = JSON.parse(fs.readFileSync(rootPkgPath, 'utf8'))
const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')
const stale = []
const problems = []

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
    if (v.name === defaultVariant) optional[name] = root.version
    const pkg = platformPackageJson(root, {
      name,
      bin,
      target: t,
      description:
        v.name === defaultVariant
          ? `perf-event-open native binary for ${t.platform}: the default build (perf ABI of Linux ${v.kernel}, crate feature ${v.feature}), runs on every supported kernel`
          : `perf-event-open native binary for ${t.platform}, built for Linux ${v.kernel}+ (${v.distros}; crate feature ${v.feature})`,
    })
    const dir = packageDir(t.platform, v.name)
    write(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
    write(path.join(dir, 'LICENSE'), license)
    const how =
      v.name === defaultVariant
        ? 'It is the variant `perf-event-open` installs by default; it runs on every supported kernel.'
        : `Install it next to \`perf-event-open\` (\`npm install ${name}@${root.version}\`) to get the build made for Linux ${v.kernel}+: the loader prefers it on such kernels.`
    write(path.join(dir, 'README.md'), `# ${name}\n\nThe \`${t.triple}\` binary of [perf-event-open](https://www.npmjs.com/package/perf-event-open), built with the perf ABI of Linux ${v.kernel} and newer (${v.distros}). ${how}\n`)
    if (mode === '--pre-publish' && !fs.existsSync(path.join(dir, bin))) problems.push(`${path.relative(ROOT, dir)} has no ${bin}`)
  }
}
// The README's variant table and its count of binaries, written from variants.json too: a new
// variant is one entry in variants.json, then this script (README "Platforms and kernels").
const README_TABLE_HEADER = '| variant | for kernels | built with crate feature | typical distros |\n|---|---|---|---|\n'
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve']
{
  const readmePath = path.join(ROOT, 'README.md')
  const readme = fs.readFileSync(readmePath, 'utf8')
  const at = readme.indexOf(README_TABLE_HEADER)
  if (at < 0) problems.push('README.md has no variant table header')
  else {
    const from = at + README_TABLE_HEADER.length
    const lines = readme.slice(from).split('\n')
    const rows = lines.findIndex((l) => !l.startsWith('|'))
    const table = variants.map(variantRow).join('\n')
    let next = readme.slice(0, from) + table + '\n' + lines.slice(rows).join('\n')
    next = next.replace(/(one [0-9.]+ MB binary on disk instead of )[a-z]+\./, `$1${NUMBER_WORDS[variants.length]}.`)
    write(readmePath, next)
  }
}

const sym = symbolizePackages(mode.slice(2))
stale.push(...sym.stale)
problems.push(...sym.problems)
optional[sym.name] = sym.version

if (root.optionalDependencies && mode !== '--pre-publish') {
  problems.push('package.json has optionalDependencies: they are written at publish time (--pre-publish); a clone must not name unpublished packages, or npm ci fails')
}
if (mode === '--pre-publish') {
  const local = fs.readdirSync(ROOT).filter((f) => f.endsWith('.node'))
  if (local.length) problems.push(`the root package would ship local binaries: ${local.join(', ')}`)
}

if (stale.length && check) problems.push(`stale (run node scripts/pack/npm-packages.js): ${stale.join(', ')}`)
if (problems.length) {
  for (const p of problems) console.error(p)
  process.exit(1)
}
if (mode === '--pre-publish') {
  const sorted = Object.fromEntries(Object.entries(optional).sort(([a], [b]) => a.localeCompare(b)))
  fs.writeFileSync(rootPkgPath, `${JSON.stringify({ ...root, optionalDependencies: sorted }, null, 2)}\n`)
  console.log(`every platform package (and symbolizer platform package) has its binary; optionalDependencies: ${Object.keys(sorted).join(', ')}`)
} else {
  console.log(check ? 'npm/ and symbolize/npm/ are up to date' : `wrote ${stale.length} file(s)`)
}
