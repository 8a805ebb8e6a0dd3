/** 用工需求 (issue 19): the employer posts and manages its demands; the workstation sees those open to its region,
 * shortlists people for a position and dispatches them in one step. */
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  { path: '/employer/demands', component: () => import('@/views/employer/DemandList.vue'),
    meta: { title: '用工需求', roles: ['employer'], order: 12 } },
  { path: '/employer/demands/:demandId', component: () => import('@/views/employer/DemandDetail.vue'),
    meta: { title: '用工需求详情', roles: ['employer'], menu: false }, props: true },
  { path: '/workstation/demands', component: () => import('@/views/workstation/DemandBoard.vue'),
    meta: { title: '用工需求对接', roles: ['workstation'], group: '组织输出', order: 19 } },
  { path: '/workstation/demands/:demandId', component: () => import('@/views/workstation/DemandShortlist.vue'),
    meta: { title: '人岗匹配', roles: ['workstation'], menu: false }, props: true },
]

export default routes
