/** Chinese names of the record fields a history entry's `changes` may name. */
import { END_REASON, NOT_WORKING_REASON, PLACEMENT_STATUS, PRIORITY_GROUP, SEX, WORKER_STATE, label } from './labels'

export const FIELD_NAMES: Record<string, string> = {
  name: '姓名',
  sex: '性别',
  birth_month: '出生年月',
  birth_date: '出生日期',
  id_number_masked: '身份证号',
  phone_masked: '手机号',
  household_region: '户籍地',
  workstation_ids: '登记工作站',
  brand_ids: '劳务品牌',
  priority_groups: '优先服务对象',
  occupation_code: '职业编码',
  certificates: '证书',
  trainings: '培训',
  state: '状态',
  current_placement_id: '当前用工',
  dispatch_id: '输出批次',
  placement_id: '用工',
  status: '用工状态',
  last_followup_at: '最近跟踪服务',
  employer_id: '用人单位',
  start_date: '入职日期',
  end_date: '离职日期',
  end_reason: '离职原因',
  position: '岗位',
  monthly_wage: '月工资',
  reason: '原因',
  origin_region: '输出地',
  destination_region: '输入地',
  from_region: '原户籍地',
  intention: '求职意向',
  intention_superseded: '已有更新的求职意向（本条仅留存）',
}

const VALUE_TABLES: Record<string, Record<string, string>> = {
  sex: SEX,
  state: WORKER_STATE,
  status: PLACEMENT_STATUS,
  end_reason: END_REASON,
}

/** Bookkeeping in a history entry that says nothing to a person (`created`: the first registration). */
export const HIDDEN_FIELDS = new Set(['created', 'version'])

const REGION_FIELDS = new Set(['household_region', 'origin_region', 'destination_region', 'from_region'])

/** One value of a change, readable: lists joined, enumerations and regions named, empty as —. */
export function showValue(field: string, value: unknown, regions: Record<string, string> = {}): string {
  if (value === null || value === undefined || value === '') return '—'
  if (REGION_FIELDS.has(field) && typeof value === 'string' && regions[value]) return regionText(value, regions)
  if (Array.isArray(value)) {
    if (value.length === 0) return '—'
    const table = field === 'priority_groups' ? PRIORITY_GROUP : undefined
    return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : table ? label(table, String(v)) : String(v))).join('、')
  }
  if (field === 'intention' && typeof value === 'object') return intentionText(value as Record<string, unknown>, regions)
  if (typeof value === 'object') return JSON.stringify(value)
  const table = VALUE_TABLES[field]
  return table ? label(table, String(value)) : String(value)
}

/** A region code as people read it: 深圳市（440300）; a code the table does not know stays as it is. */
function regionText(code: string, regions: Record<string, string>): string {
  return regions[code] ? `${regions[code]}（${code}）` : code
}

/** Region codes as people read them, joined. */
export function regionList(codes: unknown, regions: Record<string, string>): string {
  return Array.isArray(codes) ? codes.map((c) => regionText(String(c), regions)).join('、') : ''
}

/** A 求职意向 in a history entry, in words (issue 19). */
function intentionText(i: Record<string, unknown>, regions: Record<string, string>): string {
  const list = (v: unknown) => (Array.isArray(v) ? v.join('、') : '')
  const parts = [
    i.occupations ? `意向职业 ${list(i.occupations)}` : '',
    i.destinations ? `意向地 ${regionList(i.destinations, regions)}` : '',
    i.min_monthly_wage ? `最低期望月薪 ${i.min_monthly_wage} 元` : '',
    i.available_from ? `可到岗 ${i.available_from}` : '',
    i.training_wanted ? `培训需求 ${list(i.training_wanted)}` : '',
    i.not_working_reason ? `未就业原因 ${label(NOT_WORKING_REASON, String(i.not_working_reason))}` : '',
  ]
  return parts.filter(Boolean).join('；') || '—'
}
