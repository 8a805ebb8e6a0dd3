/**
 * API errors as people read them: every `{"detail": [{"loc", "msg", "type"}]}` item becomes a Chinese message
 * attached to the form field its `loc` names (`["body", "employer", "name"]` → `employer.name`); what names no
 * field (404, 409 with a text detail, a network failure) becomes one general message. Never a stack trace.
 */

export interface ProblemItem {
  loc?: (string | number)[]
  msg?: string
  msg_zh?: string
  type?: string
  ctx?: Record<string, unknown>
}

/** The field an error belongs to: `loc` without its first part (body/query/path), joined with dots. */
export function fieldOf(loc: (string | number)[] | undefined): string {
  if (!loc || loc.length === 0) return ''
  const parts = ['body', 'query', 'path', 'header'].includes(String(loc[0])) ? loc.slice(1) : loc
  return parts.map(String).join('.')
}

const BY_TYPE: Record<string, (ctx: Record<string, unknown>) => string> = {
  missing: () => '必填',
  string_too_short: (c) => (c.min_length ? `至少 ${c.min_length} 个字符` : '内容太短'),
  string_too_long: (c) => (c.max_length ? `最多 ${c.max_length} 个字符` : '内容太长'),
  too_short: (c) => (c.min_length ? `至少 ${c.min_length} 项` : '项数太少'),
  too_long: (c) => (c.max_length ? `最多 ${c.max_length} 项` : '项数太多'),
  string_pattern_mismatch: () => '格式不正确',
  string_unclean: () => '含有不可见或无法保存的字符，请删除后重试',
  string_type: () => '应为文字',
  enum: (c) => (c.expected ? `取值应为 ${c.expected} 之一` : '取值不在允许范围内'),
  literal_error: (c) => (c.expected ? `取值应为 ${c.expected} 之一` : '取值不在允许范围内'),
  int_parsing: () => '请输入整数',
  int_type: () => '请输入整数',
  float_parsing: () => '请输入数字',
  decimal_parsing: () => '请输入数字',
  decimal_max_places: (c) => `最多 ${c.decimal_places ?? 2} 位小数`,
  bool_parsing: () => '应为是或否',
  date_parsing: () => '日期格式应为 2026-03-01',
  date_from_datetime_parsing: () => '日期格式应为 2026-03-01',
  date_type: () => '日期格式应为 2026-03-01',
  datetime_parsing: () => '时间格式不正确',
  greater_than: (c) => `应大于 ${c.gt}`,
  greater_than_equal: (c) => `不能小于 ${c.ge}`,
  less_than: (c) => `应小于 ${c.lt}`,
  less_than_equal: (c) => `不能大于 ${c.le}`,
  extra_forbidden: () => '不接受此字段',
  uuid_parsing: () => '编号格式不正确',
  // the domain's rules (laowu.domain): usually with msg_zh; these cover those without
  check_digit: () => '身份证号校验位错误',
  region: () => '不是有效的行政区划代码',
  id_mismatch: () => '与身份证号不符',
  conflict: () => '与台账中的记录冲突',
  bad_credentials: () => '用户名或密码错误',
  account_locked: () => '账户已锁定，请稍后重试',
  account_disabled: () => '账户已停用，请联系管理员',
  // job demands (issue 19)
  wage_range: (c) => `不能低于月工资下限${c.low ? `（${c.low} 元）` : ''}`,
  age_range: (c) => `不能低于年龄下限${c.low ? `（${c.low} 岁）` : ''}`,
  reserved_posts: (c) => `爱心岗位数不能超过招聘人数${c.headcount ? `（${c.headcount}）` : ''}`,
  duplicate_position: () => '岗位编号重复',
}

const BY_STATUS: Record<number, string> = {
  401: '登录已失效，请重新登录',
  403: '没有权限执行此操作',
  404: '未找到，或不在本单位的管辖范围内',
  409: '与台账中的现有记录冲突',
  413: '内容过大，请拆分后重试',
  415: '不支持的文件类型',
  422: '填写的内容有误',
  429: '操作过于频繁，请稍后重试',
  500: '服务器内部错误，请稍后重试或联系管理员',
  502: '服务暂时不可用，请稍后重试',
  503: '服务暂时不可用，请稍后重试',
}

/** One item in Chinese: the API's own Chinese text, else our words for its type, else the API's text. */
export function chinese(item: ProblemItem): string {
  if (item.msg_zh) return item.msg_zh
  const known = item.type ? BY_TYPE[item.type] : undefined
  if (known) return known(item.ctx ?? {})
  return item.msg ?? '填写的内容有误'
}

/** An API answer that was not a success, as fields → messages plus general messages. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly fields: Record<string, string>,
    readonly general: string[],
  ) {
    super(general[0] ?? Object.values(fields)[0] ?? '操作失败')
    this.name = 'ApiProblem'
  }

  /** Everything in one line, for a notification when a page has no field to put a message next to. */
  get summary(): string {
    const all = [...this.general, ...Object.entries(this.fields).map(([f, m]) => (f ? `${f}：${m}` : m))]
    return all.join('；') || this.message
  }
}

/** Turn an answer's status and body (parsed JSON or text) into an ApiProblem. */
export function problemFrom(status: number, body: unknown): ApiProblem {
  const fields: Record<string, string> = {}
  const general: string[] = []
  const detail = (body as { detail?: unknown } | null)?.detail
  if (Array.isArray(detail)) {
    for (const raw of detail) {
      const item = raw as ProblemItem
      const field = fieldOf(item.loc)
      const text = chinese(item)
      if (field) fields[field] = fields[field] ? `${fields[field]}；${text}` : text
      else general.push(text)
    }
  } else if (typeof detail === 'string' && detail) {
    // Text details are English words for programs ("not found", "rate limit exceeded"): the status says it in Chinese.
    general.push(BY_STATUS[status] ?? detail)
    if (!BY_STATUS[status]) general.push(detail)
  }
  if (general.length === 0 && Object.keys(fields).length === 0) {
    general.push(BY_STATUS[status] ?? `请求失败（${status}）`)
  }
  return new ApiProblem(status, fields, general)
}
