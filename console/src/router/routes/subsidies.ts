/** Organizations and the subsidy workflow (issue 21). 人社部门: applications to review, the public notice (公示),
 * payments, budgets and the registry to verify; 劳务工作站: my entitlements and applications. */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const bureau: Role[] = ['bureau', 'admin']
const workstation: Role[] = ['workstation']
const group = '补贴与机构'

const routes: RouteRecordRaw[] = [
  { path: '/bureau/subsidy-review', component: () => import('@/views/bureau/SubsidyReview.vue'),
    meta: { title: '补贴审核', roles: bureau, group, order: 40 } },
  { path: '/bureau/subsidy-notice', component: () => import('@/views/bureau/SubsidyNotice.vue'),
    meta: { title: '补贴公示', roles: bureau, group, order: 41 } },
  { path: '/bureau/subsidy-payments', component: () => import('@/views/bureau/SubsidyPayments.vue'),
    meta: { title: '补贴发放', roles: bureau, group, order: 42 } },
  { path: '/bureau/subsidy-budgets', component: () => import('@/views/bureau/SubsidyBudgets.vue'),
    meta: { title: '补贴预算', roles: bureau, group, order: 43 } },
  { path: '/bureau/organizations', component: () => import('@/views/bureau/OrganizationVerify.vue'),
    meta: { title: '机构核实', roles: bureau, group, order: 44 } },
  { path: '/workstation/subsidies', component: () => import('@/views/workstation/MySubsidies.vue'),
    meta: { title: '补贴申领', roles: workstation, group: '组织输出', order: 24 } },
]

export default routes
