/** 劳务工作站: the real-name ledger, imports, organized output, follow-up, alerts and receipts. */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const roles: Role[] = ['workstation']
const ledger = '实名台账'
const output = '组织输出'

const routes: RouteRecordRaw[] = [
  { path: '/workstation/register', component: () => import('@/views/workstation/RegisterWorker.vue'),
    meta: { title: '人员登记', roles, group: ledger, order: 10 } },
  { path: '/workstation/find', component: () => import('@/views/workstation/FindWorker.vue'),
    meta: { title: '按身份证号查找', roles, group: ledger, order: 11 } },
  { path: '/workstation/workers', component: () => import('@/views/workstation/WorkerList.vue'),
    meta: { title: '人员名册', roles, group: ledger, order: 12 } },
  { path: '/workstation/workers/:workerId', component: () => import('@/views/workstation/WorkerRecord.vue'),
    meta: { title: '人员档案', roles, menu: false }, props: true },
  { path: '/workstation/import', component: () => import('@/views/workstation/ImportWorkers.vue'),
    meta: { title: 'Excel 批量导入', roles, group: ledger, order: 13 } },
  { path: '/workstation/dispatch', component: () => import('@/views/workstation/CreateDispatch.vue'),
    meta: { title: '创建输出批次', roles, group: output, order: 20 } },
  { path: '/workstation/followup', component: () => import('@/views/workstation/FollowUp.vue'),
    meta: { title: '跟踪服务', roles, group: output, order: 21 } },
  { path: '/workstation/alerts', component: () => import('@/views/workstation/AlertList.vue'),
    meta: { title: '辖区预警', roles, group: output, order: 22 } },
  { path: '/workstation/receipts', component: () => import('@/views/workstation/ReceiptList.vue'),
    meta: { title: '办理回执', roles, group: output, order: 23 } },
]

export default routes
