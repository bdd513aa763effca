// variants.json and its naming rules (lib/loading/naming.js, shared with the loader) for the build and
// packaging scripts and the release workflow.
const path = require('node:path')
const naming = require('../../lib/loading/naming.js')

const ROOT = path.join(__dirname, '..', '..')
const packageDir = (platform, variant) => path.join(ROOT, 'npm', naming.packageDirName(platform, variant))

// How the release workflow builds and tests each target (derived from cpu and libc, so a new
// target in variants.json needs no workflow edit).
const ci = (t) => ({
  ...t,
  runner: t.cpu === 'arm64' ? 'ubuntu-24.04-arm' : 'ubuntu-24.04',
  // glibc builds link against glibc 2.17 (napi-rs cross toolchain); musl builds use cargo-zigbuild.
  mode: t.libc === 'musl' ? '--cross-compile' : '--use-napi-cross',
  container: t.libc === 'musl' ? 'node:20-alpine' : '',
})

/**
 * The package.json of one platform package (of the main addon or of the symbolizer): one `.node`
 * binary for one target, the root package's license, author, repository, engines and publishing
 * settings, and a prepack guard so `npm pack`/`npm publish` refuse it without its binary.
 */
function platformPackageJson(root, { name, description, bin, target }) {
  return {
    name,
    version: root.version,
    description,
    main: bin,
    files: [bin, 'LICENSE'],
    license: root.license,
    author: root.author,
    repository: root.repository,
    os: ['linux'],
    cpu: [target.cpu],
    libc: [target.libc],
    engines: root.engines,
    publishConfig: root.publishConfig,
    scripts: { prepack: `node -e "require('fs').accessSync('${bin}')" || (echo 'missing ${bin}: place the built binary here before packing' >&2; exit 1)` },
  }
}

/** A variant's row in the README's table (written by scripts/pack/npm-packages.js, checked by __test__/readme-variants.spec.ts). */
function variantRow(v) {
  const feature = v.feature === 'latest' ? '`latest` (linux-' + v.kernel + ')' : '`' + v.feature + '`'
  const distros = v.name === naming.DEFAULT_VARIANT ? `${v.distros}; also the local development build` : v.distros
  return `| \`${v.name}\` | ${v.kernel}+ | ${feature} | ${distros} |`
}

module.exports = {
  ROOT,
  variantRow,
  platformPackageJson,
  variants: naming.VARIANTS,
  targets: naming.TARGETS,
  default: naming.DEFAULT_VARIANT,
  binaryName: naming.binaryName,
  packageName: naming.packageName,
  packageDir,
}

// CLI for workflows:
//   node scripts/lib/variants.js matrix            {"variant":[{name,feature}],"target":[{triple,platform,cpu,libc,runner,mode,container}]}
//   node scripts/lib/variants.js targets           the target list alone (as above)
//   node scripts/lib/variants.js binary-name <platform> <variant>
//   node scripts/lib/variants.js package-dir <platform> <variant>
//   node scripts/lib/variants.js napi-targets      checks package.json napi.targets == variants.json targets
if (require.main === module) {
  const [cmd, platform, variant] = process.argv.slice(2)
  const out = {
    'binary-name': () => naming.binaryName(platform, variant),
    'package-dir': () => path.relative(ROOT, packageDir(platform, variant)),
    matrix: () =>
      JSON.stringify({ variant: naming.VARIANTS.map((v) => ({ name: v.name, feature: v.feature })), target: naming.TARGETS.map(ci) }),
    targets: () => JSON.stringify(naming.TARGETS.map(ci)),
    'napi-targets': () => {
      const pkg = require('../../package.json')
      const want = naming.TARGETS.map((t) => t.triple)
      if (JSON.stringify(pkg.napi.targets) !== JSON.stringify(want)) {
        console.error(`package.json napi.targets ${JSON.stringify(pkg.napi.targets)} != variants.json targets ${JSON.stringify(want)}`)
        process.exit(1)
      }
      return 'package.json napi.targets match variants.json'
    },
  }[cmd]
  if (!out) {
    console.error('usage: node scripts/lib/variants.js matrix | targets | napi-targets | binary-name|package-dir <platform> <variant>')
    process.exit(2)
  }
  console.log(out())
}
