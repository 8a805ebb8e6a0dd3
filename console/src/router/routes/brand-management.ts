/** Brand dynamic management (动态管理, issue 21): the bureau's applications and yearly re-check, the reviewer's
 * assigned reviews. Integrity and typical persons are on the brand's own page (bureau/BrandDetail). */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const bureau: Role[] = ['bureau', 'admin']
const reviewer: Role[] = ['reviewer']
const library = '品牌资源库'

const routes: RouteRecordRaw[] = [
  { path: '/bureau/brand-applications', component: () => import('@/views/bureau/BrandApplications.vue'),
    meta: { title: '入库与晋级评审', roles: bureau, group: library, order: 34 } },
  { path: '/bureau/brand-rechecks', component: () => import('@/views/bureau/BrandRechecks.vue'),
    meta: { title: '年度复核', roles: bureau, group: library, order: 35 } },
  { path: '/reviewer/reviews', component: () => import('@/views/reviewer/MyReviews.vue'),
    meta: { title: '我的评审任务', roles: reviewer, order: 10 } },
]

export default routes
