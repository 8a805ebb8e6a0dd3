/** The accounts API (admin only) through the generated client, and the audit log's words in Chinese. */
import { AccountsApi } from '@/api/generated'
import { configuration } from '@/api'

export const accountsApi = new AccountsApi(configuration)

export const AUDIT_ACTION: Record<string, string> = {
  'account.create': '创建账户',
  'account.update': '修改账户',
  'account.disable': '停用账户',
  'account.enable': '启用账户',
  'account.password_reset': '重置密码',
  'account.password_change': '修改密码',
  'account.password_change_failed': '修改密码失败',
  'account.sign_in': '登录',
  'account.sign_in_failed': '登录失败',
  'account.sign_in_locked': '锁定期间登录被拒',
  'account.sign_in_refused': '停用账户登录被拒',
  'account.locked': '账户锁定',
  'account.sign_out': '退出登录',
  'credential.create': '创建接口密钥',
  lookup: '按身份证号查询',
  reveal: '查看完整信息',
  'reveal.refused': '查看完整信息被拒（超出当日限额）',
  'export.workers': '导出人员名册',
  'export.stats': '导出统计报表',
  'import.errors': '下载导入错误表',
}
