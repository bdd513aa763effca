// symbolizerInfo() names the libraries the symbolizer addon was built with: symbolize/build.rs reads
// their versions from symbolize/Cargo.lock, so they follow the pins (=x.y.z in Cargo.toml) by
// themselves. The loaded addon's answer is checked against both files.
import test from 'ava'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from './helpers.ts'

const LIBRARIES = ['blazesym', 'inferno', 'fxprof-processed-profile']

test('symbolizerInfo() is the versions of blazesym, inferno and fxprof-processed-profile in Cargo.lock and their Cargo.toml pins', (t) => {
  const lock = readFileSync(join(REPO, 'symbolize', 'Cargo.lock'), 'utf8')
  const toml = readFileSync(join(REPO, 'symbolize', 'Cargo.toml'), 'utf8')
  const locked = LIBRARIES.map((name) => {
    const m = new RegExp(`\\[\\[package\\]\\]\\nname = "${name}"\\nversion = "([^"]+)"`).exec(lock)
    t.truthy(m, `${name} in Cargo.lock`)
    const pin = new RegExp(`^${name} = (?:\\{ version = )?"=([^"]+)"`, 'm').exec(toml)
    t.is(pin?.[1], m?.[1], `${name}: Cargo.toml pin = Cargo.lock`)
    return `${name} ${m?.[1]}`
  })
  const addon = createRequire(import.meta.url)(join(REPO, 'symbolize', 'index.js')) as { symbolizerInfo(): string }
  t.is(addon.symbolizerInfo(), locked.join(', '))
})
