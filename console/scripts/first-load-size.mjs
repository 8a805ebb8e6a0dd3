// First-load size of the console (issue 18: "gzipped JS+CSS; aim under 600 KB"): for each page, what a browser
// fetches to show it when it opens that URL cold — the entry chunk, the signed-in layout (except for the sign-in
// page) and the page's own chunk, each with its static imports and their CSS — gzipped, counted once.
// Reads dist/.vite/manifest.json (vite build with `manifest: true`); prints a table and the largest figure, and
// writes dist/first-load.json. Exits 1 above the budget.
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const BUDGET_KB = 600
const dist = new URL('../dist/', import.meta.url).pathname
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'))
const gz = new Map()
const gzipped = (file) => {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(dist, file)), { level: 9 }).length)
  return gz.get(file)
}

function closure(key, files = new Set()) {
  const chunk = manifest[key]
  if (!chunk || files.has(chunk.file)) return files
  files.add(chunk.file)
  for (const css of chunk.css ?? []) files.add(css)
  for (const imported of chunk.imports ?? []) closure(imported, files)
  return files
}

// the console's entry (dashboard.html is the wall dashboard's page, measured on its own below)
const entry = 'index.html'
const layout = Object.keys(manifest).find((k) => k.endsWith('layout/ConsoleLayout.vue'))
const pages = Object.keys(manifest).filter((k) => /src\/views\/.+\.vue$/.test(k))
const rows = pages.map((page) => {
  const files = closure(entry)
  files.add('index.html')
  if (!page.includes('/login/') && layout) closure(layout, files)
  closure(page, files)
  const bytes = [...files].reduce((sum, f) => sum + gzipped(f), 0)
  return { page: page.replace(/^src\/views\//, ''), kb: +(bytes / 1024).toFixed(1), files: files.size }
})
rows.sort((a, b) => b.kb - a.kb)
const largest = rows[0]
for (const r of rows) console.log(`${String(r.kb).padStart(7)} KB  ${String(r.files).padStart(3)} files  ${r.page}`)
console.log(`first load, largest page: ${largest.kb} KB gzipped JS+CSS+HTML (${largest.page}); budget ${BUDGET_KB} KB`)
const dashboardFiles = closure('dashboard.html', new Set(['dashboard.html']))
const dashboard = { kb: +([...dashboardFiles].reduce((sum, f) => sum + gzipped(f), 0) / 1024).toFixed(1), files: dashboardFiles.size }
console.log(`wall dashboard (/dashboard, ECharts on demand): ${dashboard.kb} KB gzipped JS+CSS+HTML, ${dashboard.files} files`)
writeFileSync(join(dist, 'first-load.json'), JSON.stringify({ budget_kb: BUDGET_KB, largest, pages: rows, dashboard }, null, 1))
process.exit(largest.kb > BUDGET_KB ? 1 : 0)
