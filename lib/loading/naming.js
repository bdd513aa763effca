'use strict'
// The names of kernel variants' binaries and npm packages, read from variants.json.
// Plain CommonJS so that scripts/ can require it before the TypeScript facade is built;
// tsc (allowJs) copies it into dist/ with typings derived from the JSDoc below.

/**
 * @typedef {object} Variant
 * @property {string} name Name used in package names and PERF_EVENT_OPEN_VARIANT.
 * @property {string} kernel Oldest kernel (major.minor) this variant is for.
 * @property {string} feature Cargo feature it is built with (`linux-X.Y` or `latest`).
 * @property {string} distros Distributions whose kernels it fits.
 */

/**
 * @typedef {object} TargetInfo
 * @property {string} triple Rust target triple, e.g. `x86_64-unknown-linux-gnu`.
 * @property {string} platform napi platform string, e.g. `linux-x64-gnu`.
 * @property {string} cpu `process.arch` / npm `cpu`.
 * @property {'glibc' | 'musl'} libc npm `libc`.
 */

// Read at run time from the package root (lib/ and dist/ both sit one level below it); the alias
// keeps tsc from compiling the JSON into dist/.
const requireAtRuntime = require
/** @type {{ default: string, variants: Variant[], targets: TargetInfo[] }} */
const file = loadVariants()

/**
 * variants.json from the package root. A bundle that inlined this file without it (esbuild,
 * webpack or Vite without perf-event-open marked external) gets an error that says so.
 * @returns {{ default: string, variants: Variant[], targets: TargetInfo[] }}
 */
function loadVariants() {
  try {
    return requireAtRuntime('../../variants.json')
  } catch (cause) {
    const e = new Error(
      `perf-event-open could not find its variants.json next to ${__dirname}: it looks bundled (esbuild, webpack, Vite, Electron Forge). ` +
        'Mark perf-event-open external so that it loads from node_modules with its files and binaries: README "Bundlers" ' +
        '(https://github.com/perf-event-open/perf-event-open-node#bundlers), e.g. esbuild --external:perf-event-open.',
      { cause },
    )
    Object.assign(e, { name: 'PerfEventError', code: 'ERR_NATIVE_LOAD', errno: 0, syscall: 'load', hint: 'Mark perf-event-open external in your bundler: README "Bundlers".' })
    throw e
  }
}

/** @type {readonly Variant[]} */
const VARIANTS = file.variants
/** @type {readonly TargetInfo[]} */
const TARGETS = file.targets
/** The variant published as the plain napi platform package and installed by default. */
const DEFAULT_VARIANT = file.default

/**
 * File name of a variant's `.node` (in its npm package, or next to the package root for local builds).
 * @param {string} platform napi platform, e.g. `linux-x64-gnu`
 * @param {string} variant variant name
 * @returns {string}
 */
function binaryName(platform, variant) {
  return variant === DEFAULT_VARIANT ? `perf-event-open.${platform}.node` : `perf-event-open.${platform}-${variant}.node`
}

/**
 * npm package of a (platform, variant); also its folder name under `npm/` without the `perf-event-open-` prefix.
 * The default variant is the plain napi platform package.
 * @param {string} platform
 * @param {string} variant
 * @returns {string}
 */
function packageName(platform, variant) {
  return `perf-event-open-${packageDirName(platform, variant)}`
}

/**
 * Folder of a (platform, variant) package under `npm/`.
 * @param {string} platform
 * @param {string} variant
 * @returns {string}
 */
function packageDirName(platform, variant) {
  return variant === DEFAULT_VARIANT ? platform : `${platform}-${variant}`
}

module.exports = { VARIANTS, TARGETS, DEFAULT_VARIANT, binaryName, packageName, packageDirName }
