/** 用人单位: arrivals to confirm or reject, current employees, separations. */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const roles: Role[] = ['employer']

const routes: RouteRecordRaw[] = [
  { path: '/employer/arrivals', component: () => import('@/views/employer/ArrivalList.vue'),
    meta: { title: '待确认到岗', roles, order: 10 } },
  { path: '/employer/employees', component: () => import('@/views/employer/EmployeeList.vue'),
    meta: { title: '在职人员', roles, order: 11 } },
]

export default routes
