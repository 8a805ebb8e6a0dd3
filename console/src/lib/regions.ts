/**
 * GB/T 2260 region codes as the API knows them (data/regions.json, generated from laowu.domain.regions by
 * contract/client.py): every code that exists or ever existed, with its name. Loaded on first use only, so the
 * pages that take no region code do not pay for it.
 */
let table: Promise<Record<string, string>> | null = null

export function loadRegions(): Promise<Record<string, string>> {
  table ??= import('../data/regions.json').then((m) => m.default as Record<string, string>)
  return table
}

/** Residence permits for people from Hong Kong, Macao and Taiwan carry these address codes (laowu.domain.identity). */
export const RESIDENCE_PERMIT_CODES = new Set(['810000', '820000', '830000'])

export interface RegionCheck {
  ok: boolean
  /** The region's name when known, or why the code is refused, in Chinese. */
  text: string
}

export async function checkRegion(code: string): Promise<RegionCheck> {
  if (!/^\d{6}$/.test(code)) return { ok: false, text: '行政区划代码应为6位数字' }
  const regions = await loadRegions()
  const name = regions[code]
  if (name !== undefined) return { ok: true, text: name }
  return { ok: false, text: `${code}不是有效的行政区划代码` }
}
