// A minimal read-only npm registry on 127.0.0.1 serving a folder of package tarballs, for
// scripts/pack/registry-install-test.sh: npm, pnpm and bun install from it as from registry.npmjs.org
// (packuments with dist.tarball/integrity/shasum, tarballs). Unknown packages get 404, so
// nothing can come from elsewhere.
//   node scripts/pack/local-registry.js <dir of .tgz> <port file>
// Writes the port it listens on to <port file> once ready.
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { execFileSync } = require('node:child_process')

const [dir, portFile] = process.argv.slice(2)
const packages = new Map() // name -> { versions: {v: manifest}, latest }
const files = new Map() // file name -> path

for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.tgz'))) {
  const file = path.join(dir, f)
  const data = fs.readFileSync(file)
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }))
  const entry = packages.get(manifest.name) ?? { versions: {}, latest: manifest.version }
  entry.versions[manifest.version] = {
    ...manifest,
    _id: `${manifest.name}@${manifest.version}`,
    dist: {
      tarball: `TARBALL/${f}`,
      shasum: crypto.createHash('sha1').update(data).digest('hex'),
      integrity: `sha512-${crypto.createHash('sha512').update(data).digest('base64')}`,
    },
  }
  packages.set(manifest.name, entry)
  files.set(f, file)
}

const server = http.createServer((req, res) => {
  const base = `http://${req.headers.host}`
  const url = decodeURIComponent(new URL(req.url, base).pathname)
  if (url.startsWith('/-/tarballs/')) {
    const file = files.get(url.slice('/-/tarballs/'.length))
    if (!file) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    return fs.createReadStream(file).pipe(res)
  }
  const entry = packages.get(url.slice(1))
  if (!entry) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}')
  const versions = JSON.parse(JSON.stringify(entry.versions).replaceAll('TARBALL/', `${base}/-/tarballs/`))
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ name: url.slice(1), 'dist-tags': { latest: entry.latest }, versions }))
})
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile, String(server.address().port))
  console.log(`serving ${packages.size} packages on http://127.0.0.1:${server.address().port}/`)
})
