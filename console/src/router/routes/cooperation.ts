/** 劳务协作 (issue 19): agreements and their progress, the flow chart and the people sent into my region — for
 * bureaus (and admins); the received list also for a workstation posted to a destination region (驻外工作站). */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const bureau: Role[] = ['bureau', 'admin']
const group = '劳务协作'

const routes: RouteRecordRaw[] = [
  { path: '/cooperation/agreements', component: () => import('@/views/cooperation/AgreementList.vue'),
    meta: { title: '协作协议与进度', roles: bureau, group, order: 40 } },
  { path: '/cooperation/flows', component: () => import('@/views/cooperation/FlowChart.vue'),
    meta: { title: '劳务流向', roles: bureau, group, order: 41 } },
  { path: '/cooperation/received', component: () => import('@/views/cooperation/ReceivedList.vue'),
    meta: { title: '输入本地人员', roles: [...bureau, 'workstation'], group, order: 42 } },
]

export default routes
