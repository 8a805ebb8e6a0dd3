/**
 * Brand dynamic management (动态管理, issue 21): the API client of its routes and the words its pages show.
 * The rules themselves (criteria, rubric, decision, re-check, integrity) come from GET /v1/brand-rules.
 */
import { BrandManagementApi } from '@/api/generated'
import { configuration } from '@/api'

export const managementApi = new BrandManagementApi(configuration)

export const APPLICATION_KIND: Record<string, string> = { entry: '入库申请', promotion: '晋级申请' }
export const APPLICATION_STATUS: Record<string, string> = {
  submitted: '待分配专家',
  in_review: '评审中',
  approved: '评审通过',
  refused: '评审未通过',
}
export const APPLICATION_TAG: Record<string, 'success' | 'warning' | 'info' | 'danger' | 'primary'> = {
  submitted: 'info',
  in_review: 'warning',
  approved: 'success',
  refused: 'danger',
}
export const PROPOSAL: Record<string, string> = { keep: '保持', promote: '晋级', warn: '警示', suspend: '暂停', revoke: '撤销' }
export const PROPOSAL_TAG: Record<string, 'success' | 'warning' | 'info' | 'danger' | 'primary'> = {
  keep: 'success',
  promote: 'primary',
  warn: 'warning',
  suspend: 'danger',
  revoke: 'danger',
}
export const PERSON_TITLE: Record<string, string> = {
  founder: '创立人',
  inheritor: '传承人',
  leader: '领军人',
  ambassador: '形象代言人',
}
export const COMPLAINT_KIND: Record<string, string> = { complaint: '投诉', dispute: '劳动争议' }
export const INTEGRITY_INPUT: Record<string, string> = {
  complaints: '查实投诉',
  disputes: '查实劳动争议',
  wage_arrears_alerts: '欠薪预警',
  injury_alerts: '工伤预警',
}

export interface Criterion {
  figure: string
  label: string
  bound: 'min' | 'max'
  threshold: string | number
  value: string | number | null
  met: boolean
}

/** A criterion's threshold in words: 不低于 / 不高于. */
export function bound(c: Pick<Criterion, 'bound' | 'threshold'> | Record<string, any>): string {
  return `${c.bound === 'min' ? '≥' : '≤'} ${c.threshold}`
}

/** Rates (retention) as percentages, the rest as they come. */
export function shown(figure: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '无数据'
  if (figure.startsWith('retention')) return `${(Number(value) * 100).toFixed(1)}%`
  return String(value)
}

/** The ledger's reasons for brand-management refusals, in Chinese where a bureau or an expert meets them. */
export function managementReason(reason: string | null | undefined): string {
  if (!reason) return '未说明原因'
  let m = /the review is not complete: (\d+) of the (\d+) reviews/.exec(reason)
  if (m) return `评审未完成：已有 ${m[1]} 份评分，决定规则需要 ${m[2]} 份`
  m = /(\S+) is not a reviewer of application/.exec(reason)
  if (m) return `${m[1]} 不是该申请的评审专家`
  m = /(\S+) has already scored/.exec(reason)
  if (m) return `${m[1]} 已经评过分`
  if (/still open/.test(reason)) return '该品牌已有未完成的申请'
  if (/already decided/.test(reason)) return '已经作出过决定'
  if (/needs a candidate brand/.test(reason)) return '入库申请只适用于培育状态的品牌'
  if (/needs a listed brand/.test(reason)) return '晋级申请只适用于已入库的品牌'
  if (/must raise the level/.test(reason)) return '晋级的目标级别必须高于现有级别'
  if (/must be between 0 and (\d+)/.test(reason)) return `评分超出范围（0–${/between 0 and (\d+)/.exec(reason)?.[1]}）`
  if (/rubric item/.test(reason)) return '请为每一项评分'
  return reason
}
