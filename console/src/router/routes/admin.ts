/** 系统管理员: people's accounts and the audit log. */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const roles: Role[] = ['admin']
const group = '系统管理'

const routes: RouteRecordRaw[] = [
  { path: '/admin/accounts', component: () => import('@/views/admin/AccountList.vue'),
    meta: { title: '账户管理', roles, group, order: 5 } },
  { path: '/admin/audit', component: () => import('@/views/admin/AuditLog.vue'),
    meta: { title: '审计日志', roles, group, order: 6 } },
]

export default routes
