/**
 * The brand library's words (DOMAIN.md: 劳务品牌资源库) and its status lifecycle, as the bureau pages show them.
 * TRANSITIONS mirrors laowu/domain/brands.py so the form offers only the changes the ledger would apply; the ledger
 * still decides (a refused change comes back as a rejected receipt with its reason).
 */
import { call, eventsApi } from '@/api'

export const BRAND_STATUS: Record<string, string> = {
  candidate: '培育',
  listed: '入库',
  demonstration: '示范',
  suspended: '暂停',
  revoked: '撤销',
}

export const BRAND_CATEGORY: Record<string, string> = {
  skilled: '技能型',
  service: '服务型',
  culture_tourism: '文旅型',
  livelihood: '民生型',
  agriculture: '农业型',
}

export const BRAND_LEVEL: Record<string, string> = {
  national: '国家级',
  provincial: '省级',
  municipal: '市级',
  county: '县级',
}

export const STATUS_TAG: Record<string, 'success' | 'warning' | 'info' | 'danger' | 'primary'> = {
  candidate: 'info',
  listed: 'primary',
  demonstration: 'success',
  suspended: 'warning',
  revoked: 'danger',
}

export const TRANSITIONS: Record<string, string[]> = {
  candidate: ['listed', 'suspended', 'revoked'],
  listed: ['demonstration', 'suspended', 'revoked'],
  demonstration: ['listed', 'suspended', 'revoked'],
  suspended: ['candidate', 'listed', 'revoked'],
  revoked: [],
}

/** The figures of a brand or a region (GET /v1/stats/…), in the dashboard's words and order. */
export const FIGURES: { key: string; label: string; format: 'count' | 'percent' | 'money' }[] = [
  { key: 'registered', label: '登记从业人员', format: 'count' },
  { key: 'dispatched', label: '累计有组织输出', format: 'count' },
  { key: 'confirmed', label: '累计确认入职', format: 'count' },
  { key: 'currently_employed', label: '当前在岗', format: 'count' },
  { key: 'followup_coverage', label: '30日跟踪服务覆盖率', format: 'percent' },
  { key: 'priority_group_share', label: '优先输出对象占比', format: 'percent' },
]

export function figure(value: unknown, format: 'count' | 'percent' | 'money'): string {
  if (value === null || value === undefined || value === '') return '—'
  const n = Number(value)
  if (!Number.isFinite(n)) return String(value)
  if (format === 'percent') return `${(n * 100).toFixed(1)}%`
  if (format === 'money') return `${n.toLocaleString('zh-CN', { maximumFractionDigits: 2 })} 元`
  return n.toLocaleString('zh-CN')
}

/** Wait for a write's receipt (GET /v1/events/{id}) to say applied or rejected; null when it takes too long. */
export async function decided(eventId: string, timeoutMs = 20000): Promise<{ status: string; reason?: string | null } | null> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const receipt = await call(() => eventsApi.getEventReceipt({ eventId }))
    if (receipt.status !== 'accepted') return receipt
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  return null
}

/** The ledger's reasons are English words for programs; the ones a bureau meets, in Chinese. */
export function reasonText(reason: string | null | undefined): string {
  if (!reason) return '未说明原因'
  const already = /brand is already (\w+)/.exec(reason)
  if (already) return `品牌已是“${BRAND_STATUS[already[1]] ?? already[1]}”状态`
  const illegal = /transition (\w+) → (\w+)/.exec(reason)
  if (illegal) return `不能从“${BRAND_STATUS[illegal[1]] ?? illegal[1]}”变更为“${BRAND_STATUS[illegal[2]] ?? illegal[2]}”`
  if (/revoked/.test(reason)) return '品牌已撤销，不能再变更'
  if (/unknown brand/.test(reason)) return '品牌不存在'
  return reason
}
