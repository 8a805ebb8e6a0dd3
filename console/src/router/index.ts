/**
 * The console's routes: every file in ./routes contributes an array (one file per role, so the people building
 * the workstation/employer pages and the bureau/admin pages never edit the same file). Routes marked `bare` sit
 * at the top (sign-in); the others are children of the signed-in layout, whose menu lists those the role may see.
 */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { session } from '@/session'
import type { Role, RouteModule } from './types'

const modules = import.meta.glob<RouteModule>('./routes/*.ts', { eager: true })

export const allRoutes: RouteRecordRaw[] = Object.keys(modules)
  .sort()
  .flatMap((name) => modules[name].default ?? modules[name].routes ?? [])

const bare = allRoutes.filter((r) => r.meta?.bare)
const inLayout = allRoutes.filter((r) => !r.meta?.bare)

/** May this role open the route? (no roles listed: any signed-in role) */
export function allowed(route: { meta?: RouteRecordRaw['meta'] }, role: Role | null): boolean {
  if (route.meta?.public) return true
  if (!role) return false
  const roles = route.meta?.roles
  return !roles || roles.length === 0 || roles.includes(role)
}

/** The menu: routes with a title, no path parameter, not hidden, that the role may open; by order, then title. */
export function menuFor(role: Role | null): RouteRecordRaw[] {
  return inLayout
    .filter((r) => r.meta?.title && r.meta.menu !== false && !r.path.includes(':') && allowed(r, role))
    .sort((a, b) => (a.meta?.order ?? 100) - (b.meta?.order ?? 100))
}

/** Where a role lands after signing in: its first menu entry. */
export function homeFor(role: Role | null): string {
  const first = menuFor(role)[0]
  return first ? '/' + first.path.replace(/^\//, '') : '/'
}

const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    ...bare,
    {
      path: '/',
      component: () => import('@/layout/ConsoleLayout.vue'),
      children: inLayout.map((r) => ({ ...r, path: r.path.replace(/^\//, '') }) as RouteRecordRaw),
    },
    { path: '/:pathMatch(.*)*', component: () => import('@/views/common/NotFoundView.vue'), meta: { title: '页面不存在', public: true, bare: true } },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.token) return { path: '/login', query: { redirect: to.fullPath } }
  if (!session.account) {
    try {
      await session.refresh()
    } catch {
      return { path: '/login', query: { redirect: to.fullPath } }
    }
  }
  const role = session.account?.role ?? null
  if (to.path === '/') return homeFor(role)
  if (!allowed(to, role)) return { path: '/forbidden' }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} - 劳务品牌管理平台` : '劳务品牌管理平台'
})

export default router
