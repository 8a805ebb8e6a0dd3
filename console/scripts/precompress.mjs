// Gzip every asset of the build once, beside it (x.js → x.js.gz), so the API serves compressed files without
// compressing on each request (api/console.py picks the .gz when the browser accepts gzip).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const assets = new URL('../dist/assets/', import.meta.url).pathname
let count = 0
for (const name of readdirSync(assets)) {
  if (!/\.(js|css|json|svg)$/.test(name)) continue
  const data = readFileSync(join(assets, name))
  writeFileSync(join(assets, name + '.gz'), gzipSync(data, { level: 9 }))
  count++
}
console.log(`precompressed ${count} assets`)
