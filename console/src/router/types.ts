/** What every route of the console declares (routes/*.ts): its Chinese title and the roles that may open it. */
import type { RouteRecordRaw } from 'vue-router'

export type Role = 'workstation' | 'employer' | 'bureau' | 'admin' | 'reviewer'
export const ROLES: readonly Role[] = ['workstation', 'employer', 'bureau', 'admin', 'reviewer']
export const ROLE_NAMES: Record<Role, string> = {
  workstation: '劳务工作站',
  employer: '用人单位',
  bureau: '人社部门',
  admin: '系统管理员',
  reviewer: '评审专家', // issue 21
}

declare module 'vue-router' {
  interface RouteMeta {
    /** Chinese title: the menu entry and the page's heading / document title. */
    title?: string
    /** Who may open it; empty or absent with `public` means anyone, signed in or not. */
    roles?: Role[]
    /** Reachable without signing in (the sign-in page). */
    public?: boolean
    /** Outside the signed-in layout (no menu), e.g. the sign-in page. */
    bare?: boolean
    /** In the menu (default true for routes with a title and no path parameter). */
    menu?: boolean
    /** Menu group (a sub-menu heading), e.g. '实名台账'. */
    group?: string
    /** Order in the menu (smaller first; default 100). */
    order?: number
  }
}

/** A routes/*.ts module: `export default [...]` (or `export const routes = [...]`). */
export interface RouteModule {
  default?: RouteRecordRaw[]
  routes?: RouteRecordRaw[]
}
