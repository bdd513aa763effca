// Shared by the build and packaging scripts: variants.json plus the naming rules of
// lib/variants.ts (the loader uses the compiled TS; scripts must run before it is built).
const path = require('node:path')
const file = require('../variants.json')

const ROOT = path.join(__dirname, '..')
const binaryName = (platform, variant) =>
  variant === file.default ? `perf-event-open.${platform}.node` : `perf-event-open.${platform}-${variant}.node`
const packageName = (platform, variant) =>
  variant === file.default ? `perf-event-open-${platform}` : `perf-event-open-${platform}-${variant}`
const packageDir = (platform, variant) =>
  path.join(ROOT, 'npm', variant === file.default ? platform : `${platform}-${variant}`)

module.exports = { ROOT, ...file, binaryName, packageName, packageDir }

// CLI for workflows: `node scripts/variants.js binary-name <platform> <variant>`,
// `node scripts/variants.js package-dir <platform> <variant>`, `node scripts/variants.js matrix`.
if (require.main === module) {
  const [cmd, platform, variant] = process.argv.slice(2)
  const out = {
    'binary-name': () => module.exports.binaryName(platform, variant),
    'package-dir': () => path.relative(ROOT, module.exports.packageDir(platform, variant)),
    matrix: () => JSON.stringify(file.variants.map((v) => ({ name: v.name, feature: v.feature }))),
  }[cmd]
  if (!out) {
    console.error('usage: node scripts/variants.js binary-name|package-dir <platform> <variant> | matrix')
    process.exit(2)
  }
  console.log(out())
}
