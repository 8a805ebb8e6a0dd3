/** Labels and the one way a subsidy page sends a write and waits for its receipt (issue 21). */
import { ApiProblem, call } from '@/api'
import { decided } from './brand'

export const SUBSIDY_KIND: Record<string, string> = {
  transport: '一次性交通补助',
  social_insurance: '社会保险补贴',
  employment_service: '就业创业服务补助',
  migrant_bonus: '外出务工奖补',
}

export const SUBSIDY_STATUS: Record<string, string> = {
  entitled: '可申请',
  applied: '待审核',
  approved: '审核通过',
  refused: '未通过',
  noticed: '公示中',
  paid: '已发放',
}

export const STATUS_TAG: Record<string, 'success' | 'warning' | 'info' | 'danger' | 'primary'> = {
  entitled: 'info',
  applied: 'warning',
  approved: 'primary',
  refused: 'danger',
  noticed: 'primary',
  paid: 'success',
}

export const ORG_KIND: Record<string, string> = {
  employer: '用人单位',
  workstation: '劳务工作站',
  service_station: '服务站',
  training_institution: '培训机构',
  industry_association: '行业协会',
  hr_service_agency: '人力资源服务机构',
  labour_broker: '劳务经纪人',
}

export const ORG_STATUS: Record<string, string> = {
  pending: '待核实',
  verified: '已核实',
  rejected: '不予认定',
  suspended: '暂停',
}

/** What the reviewer can tick as checked (审核要点). */
export const CHECKS = ['身份', '就业', '优先群体', '重复享受', '预算']

/** The ledger's reasons for a refused workflow step, in the words a bureau reads. */
export function subsidyReason(reason: string | null | undefined): string {
  if (!reason) return '未说明原因'
  let m = /already applied for by (\S+) on (\S+)/.exec(reason)
  if (m) return `该补贴已由 ${m[1]} 于 ${m[2]} 申请，不能重复申请`
  m = /already has (\w+) for (\d+): subsidy (\S+)/.exec(reason)
  if (m) return `同一人员同一年度已享受${SUBSIDY_KIND[m[1]] ?? m[1]}（${m[3]}），不能重复享受`
  m = /budget of (\S+) has (\S+) left/.exec(reason)
  if (m) return `预算余额不足（剩余 ${m[2]} 元）`
  m = /may be paid from (\S+)/.exec(reason)
  if (m) return `公示期未满，${m[1]} 起方可登记发放`
  if (/must be the amount approved/.test(reason)) return '发放金额须与审核金额一致'
  if (/is outside it/.test(reason)) return '异议须在公示期内登记'
  if (/is not decided/.test(reason)) return '尚有异议未处理'
  m = /is (\w+), not/.exec(reason)
  if (m) return `当前状态为“${SUBSIDY_STATUS[m[1]] ?? m[1]}”，不能办理此项`
  return reason
}

/** Send one write (its 202), then wait for its receipt: null when applied, the Chinese reason when refused. */
export async function send(write: () => Promise<{ event_id: string }>): Promise<string | null> {
  const accepted = await call(write)
  const receipt = await decided(accepted.event_id)
  if (receipt === null) return '已提交，仍在处理中，请稍后刷新查看'
  return receipt.status === 'rejected' ? subsidyReason(receipt.reason) : null
}

/** A refused request in one line, the API's Chinese messages without the field names (these pages have no field
 * for a subsidy id). */
export function problemText(error: unknown, fallback: string): string {
  if (!(error instanceof ApiProblem)) return fallback
  return [...error.general, ...Object.values(error.fields)].join('；') || fallback
}

/**
 * One write per row, a few at a time (each waits for its receipt, which is most of the time a step takes), so a
 * bureau approving a page of applications does not wait for them one after another. Returns the refusals, each
 * named by its row (`name`), and how many took effect.
 */
export async function sendEach<T>(rows: T[], write: (row: T) => Promise<{ event_id: string }>,
                                  name: (row: T) => string, fallback: string, parallel = 6,
): Promise<{ done: number; refusals: string[] }> {
  const refusals: string[] = []
  let done = 0
  let next = 0
  async function worker() {
    while (next < rows.length) {
      const row = rows[next++]
      const why = await send(() => write(row)).catch((e) => problemText(e, fallback))
      if (why) refusals.push(`${name(row)}：${why}`)
      else done += 1
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, rows.length) }, worker))
  return { done, refusals }
}
