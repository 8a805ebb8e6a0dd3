/** The contract's enumerations in the words the people using the console use (DOMAIN.md). */

export const SEX: Record<string, string> = { M: '男', F: '女' }

export const WORKER_STATE: Record<string, string> = {
  registered: '已登记',
  dispatched: '已输出',
  placed: '在岗',
  separated: '已离职',
  returned: '已返乡',
}

export const PRIORITY_GROUP: Record<string, string> = {
  poverty_alleviated: '脱贫人口',
  rural_low_income: '农村低收入人口',
  relocated: '易地扶贫搬迁群众',
  left_behind_women: '农村留守妇女',
  disabled: '残疾人',
  veteran: '退役军人',
}

export const DISPATCH_MODE: Record<string, string> = {
  directed_interregional: '区域间定向输出',
  direct_intake: '企业直接吸纳',
  cooperation: '劳务协作',
}

export const PLACEMENT_STATUS: Record<string, string> = {
  dispatched: '待确认',
  confirmed: '已入职',
  rejected: '未到岗',
  ended: '已离职',
}

export const END_REASON: Record<string, string> = {
  contract_ended: '合同期满',
  resigned: '主动辞职',
  dismissed: '单位解除',
  returned_home: '返乡',
  injury: '工伤',
}

export const CHANNEL: Record<string, string> = { phone: '电话', visit: '走访', online: '线上' }

export const EMPLOYMENT_STATUS: Record<string, string> = {
  on_job: '在岗',
  changed_job: '换岗',
  unemployed: '待岗',
  returned_home: '返乡',
}

export const PROBLEM: Record<string, string> = {
  wage_arrears: '欠薪',
  no_contract: '未签合同',
  injury: '工伤',
  dispute: '劳动争议',
}

export const ALERT_KIND: Record<string, string> = {
  unconfirmed_placement: '到岗未确认',
  followup_overdue: '跟踪服务逾期',
  wage_arrears: '欠薪',
  injury: '工伤',
  early_separation: '短期离职',
  employment_drop: '务工人数下降', // issue 20: a county's priority-group people in work fell
}

export const RECEIPT_STATUS: Record<string, string> = { accepted: '处理中', applied: '已生效', rejected: '被退回' }

export const EVENT_TYPE: Record<string, string> = {
  'brand.registered': '品牌登记',
  'brand.updated': '品牌信息变更',
  'brand.status_changed': '品牌状态变更',
  'worker.registered': '人员登记',
  'worker.updated': '人员信息变更',
  'worker.household_moved': '户籍迁移',
  'worker.certificate_added': '取得证书',
  'worker.training_completed': '完成培训',
  'worker.brand_joined': '加入品牌',
  'worker.brand_left': '退出品牌',
  'dispatch.created': '组织输出',
  'placement.confirmed': '入职确认',
  'placement.rejected': '未到岗',
  'placement.ended': '离职',
  'followup.recorded': '跟踪服务',
  // brand dynamic management (issue 21)
  'brand.application_submitted': '入库/晋级申请',
  'brand.reviewers_assigned': '分配评审专家',
  'brand.review_scored': '专家评分',
  'brand.application_decided': '评审决定',
  'brand.recheck_decided': '年度复核决定',
  'brand.complaint_recorded': '投诉/争议记录',
  'brand.person_named': '典型人物登记',
  'demand.posted': '发布用工需求',
  'demand.closed': '关闭用工需求',
  'worker.intention_recorded': '登记求职意向',
}

/** A label, or the code itself when the contract grew a value this console does not know yet. */
export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—'
  return table[code] ?? code
}

export function options(table: Record<string, string>): { value: string; label: string }[] {
  return Object.entries(table).map(([value, text]) => ({ value, label: text }))
}

/** 未就业原因 (issue 19). */
export const NOT_WORKING_REASON: Record<string, string> = {
  caring_for_family: '照料家庭',
  illness: '疾病',
  disability: '残疾',
  in_training: '参加培训',
  no_suitable_job: '无合适岗位',
  seasonal_farming: '农忙',
  waiting_for_work: '待岗',
  other: '其他',
}
