// Builds kernel variants of the addon for this machine's x64 glibc target:
//   node scripts/build/variants.js            all variants
//   node scripts/build/variants.js linux-5.10 latest
// Each lands next to package.json as perf-event-open.linux-x64-gnu[-<variant>].node,
// where the loader (lib/loading/loader.ts) finds it. Cargo keeps every feature set's
// artifacts in target/, so rebuilding one variant is incremental.
const { execFileSync } = require('node:child_process')
const { copyFileSync } = require('node:fs')
const path = require('node:path')
const { ROOT, variants, targets, binaryName } = require('../lib/variants')

const target = targets.find((t) => t.triple === 'x86_64-unknown-linux-gnu')
const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !variants.some((v) => v.name === w))
if (unknown.length) {
  console.error(`unknown variant(s): ${unknown.join(', ')}; variants: ${variants.map((v) => v.name).join(', ')}`)
  process.exit(2)
}
for (const v of variants.filter((x) => !wanted.length || wanted.includes(x.name))) {
  const started = Date.now()
  console.log(`== ${v.name}: cargo build --release --no-default-features --features ${v.feature}`)
  execFileSync('cargo', ['build', '--release', '--no-default-features', '--features', v.feature], { cwd: ROOT, stdio: 'inherit' })
  const out = path.join(ROOT, binaryName(target.platform, v.name))
  copyFileSync(path.join(ROOT, 'target/release/libperf_event_open_node.so'), out)
  console.log(`   ${path.relative(ROOT, out)} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
}
