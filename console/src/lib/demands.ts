/** Job demands (用工需求), intentions (求职意向) and matching (issue 19): labels and the API client of their reads. */
import { JobDemandsApi } from '@/api/generated'
import { configuration } from '@/api'

export const demandsApi = new JobDemandsApi(configuration)

export const DEMAND_STATUS: Record<string, string> = {
  open: '招聘中',
  partly_filled: '部分到位',
  filled: '已招满',
  closed: '已关闭',
  expired: '已过期',
}

export const PROPOSAL_STATUS: Record<string, string> = {
  dispatched: '已推荐，待到岗',
  confirmed: '已到岗',
  rejected: '未到岗',
  ended: '已离职',
}

export const ASPECT: Record<string, string> = {
  occupation: '职业',
  certificate: '证书等级',
  wage: '工资',
  brand: '品牌',
  destination: '意向地',
  age: '年龄',
}

export { NOT_WORKING_REASON } from '@/lib/labels'

export const CERTIFICATE_KIND: Record<string, string> = {
  qualification: '职业资格证书',
  skill_level: '职业技能等级证书',
  special_ability: '专项职业能力证书',
  special_operation: '特种作业操作证',
}

export const LEVEL: Record<number, string> = { 1: '一级', 2: '二级', 3: '三级', 4: '四级', 5: '五级' }

export function requirementText(certs: Array<Record<string, unknown>>): string {
  if (!certs.length) return '不限'
  return certs.map((c) => `${(c.name as string) || CERTIFICATE_KIND[c.kind as string] || c.kind}`
    + (c.level ? `（${LEVEL[c.level as number]}及以上）` : '')).join('、')
}
