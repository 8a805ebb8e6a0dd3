/** Chinese words for what the API says about cooperation agreements (劳务协作, issue 19). */
export const AGREEMENT_STATUS: Record<string, string> = { active: '执行中', ended: '已终止' }

/** The ledger's and the API's reasons (English for programs), for a bureau clerk. */
export function agreementReason(reason: string | null | undefined): string {
  if (!reason) return '未说明原因'
  if (/already exists/.test(reason)) return '协议编号已存在'
  if (/already ended|has ended/.test(reason)) return '协议已终止，不能再变更'
  if (/before it starts/.test(reason)) return '终止或结束日期早于协议开始日期'
  if (/unknown agreement/.test(reason)) return '协议不存在'
  if (/signed by the bureau of one of its sides/.test(reason)) return '协议须由一方人社部门签订：请将本单位填为输出地或输入地人社部门，且该方地区在本辖区内'
  if (/unknown brand/.test(reason)) return '品牌不存在'
  return reason
}
