/** Issue 20: priority-group monitoring (务工监测) and alert casework (跟踪帮扶).
 * Workstation: my work-list, a case page, returned-home and not-in-work lists. Bureau: the monitoring table by region
 * and month (distance split, falling counties, export) and the casework figures; it opens the case page too. */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const field: Role[] = ['workstation', 'admin']
const bureau: Role[] = ['bureau', 'admin']
const staff: Role[] = ['workstation', 'bureau', 'admin']
const casework = '跟踪帮扶'

const routes: RouteRecordRaw[] = [
  { path: '/workstation/cases', component: () => import('@/views/workstation/CaseList.vue'),
    meta: { title: '我的待办', roles: field, group: casework, order: 60 } },
  { path: '/workstation/returned-home', component: () => import('@/views/workstation/ReturnedHome.vue'),
    meta: { title: '返乡回流人员', roles: field, group: casework, order: 61 } },
  { path: '/workstation/not-in-work', component: () => import('@/views/workstation/NotInWork.vue'),
    meta: { title: '未就业人员', roles: field, group: casework, order: 62 } },
  { path: '/cases/:alertId', component: () => import('@/views/workstation/CasePage.vue'),
    meta: { title: '预警办理', roles: staff, menu: false }, props: true },
  { path: '/bureau/monitoring', component: () => import('@/views/bureau/MonitoringTable.vue'),
    meta: { title: '重点群体务工监测', roles: bureau, group: casework, order: 63 } },
  { path: '/bureau/casework', component: () => import('@/views/bureau/CaseworkFigures.vue'),
    meta: { title: '预警办理情况', roles: bureau, group: casework, order: 64 } },
]

export default routes
