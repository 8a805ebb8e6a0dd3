/** 人社部门: the brand resource library, my region's figures, alerts and subsidies, and the way into the wall
 * dashboard. An admin (unbounded) opens them too. */
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '../types'

const roles: Role[] = ['bureau', 'admin']
const library = '品牌资源库'
const region = '辖区监测'

const routes: RouteRecordRaw[] = [
  { path: '/bureau/brands', component: () => import('@/views/bureau/BrandList.vue'),
    meta: { title: '品牌资源库', roles, group: library, order: 30 } },
  { path: '/bureau/brands/:brandId', component: () => import('@/views/bureau/BrandDetail.vue'),
    meta: { title: '品牌详情', roles, menu: false }, props: true },
  { path: '/bureau/overview', component: () => import('@/views/bureau/RegionOverview.vue'),
    meta: { title: '辖区概况与大屏', roles, group: region, order: 31 } },
  { path: '/bureau/alerts', component: () => import('@/views/bureau/RegionAlerts.vue'),
    meta: { title: '辖区预警', roles, group: region, order: 32 } },
  { path: '/bureau/subsidies', component: () => import('@/views/bureau/RegionSubsidies.vue'),
    meta: { title: '补贴台账', roles, group: region, order: 33 } },
]

export default routes
