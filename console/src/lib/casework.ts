/** Issue 20: the monitoring and casework clients (generated), and the Chinese words of their codes. */
import { CaseworkApi, MonitoringApi } from '@/api/generated'
import { configuration } from '@/api'

export const monitoringApi = new MonitoringApi(configuration)
export const caseworkApi = new CaseworkApi(configuration)

export const CASE_ACTION: Record<string, string> = {
  phone_visit: '电话回访',
  home_visit: '上门走访',
  labor_inspection: '转劳动监察',
  legal_aid: '法律援助',
  job_referral: '再就业推荐',
}
export const CASE_OUTCOME: Record<string, string> = {
  resolved: '已解决',
  referred: '已转办',
  unreachable: '无法联系',
  no_action_needed: '无需处理',
  self_closed: '自动关闭',
}
export const CASE_STEP: Record<string, string> = {
  raised: '预警产生',
  self_closed: '自动关闭（所缺事件已到达）',
  escalated: '逾期未签收，升级',
  'alert.assigned': '分派',
  'alert.acknowledged': '签收',
  'alert.worked': '跟踪办理',
  'alert.resolved': '办结',
  'alert.reopened': '重新打开',
}
export const CASE_KIND: Record<string, string> = {
  unconfirmed_placement: '到岗未确认',
  followup_overdue: '跟踪服务逾期',
  wage_arrears: '欠薪',
  injury: '工伤',
  early_separation: '短期离职',
  employment_drop: '务工人数下降',
}

/** Who took a step, as the history shows it: an account's user name, else the organization. */
export function actorText(actor: { [key: string]: unknown } | null | undefined): string {
  if (!actor) return '系统'
  const subject = String(actor.subject ?? '')
  return subject.startsWith('account:') ? subject.slice(8) : String(actor.org ?? subject)
}

/** A month as YYYY-MM, `shift` months from this one. */
export function monthOf(shift = 0): string {
  const d = new Date()
  d.setDate(1)
  d.setMonth(d.getMonth() + shift)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
}

export function pct(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—'
  return `${(Number(value) * 100).toFixed(1)}%`
}
