/** Pages every signed-in role has, and the sign-in page. */
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('@/views/login/LoginView.vue'), meta: { title: '登录', public: true, bare: true } },
  { path: '/forbidden', component: () => import('@/views/common/ForbiddenView.vue'), meta: { title: '没有权限', menu: false } },
  {
    path: '/account/password',
    component: () => import('@/views/common/PasswordView.vue'),
    meta: { title: '修改密码', menu: false },
  },
]

export default routes
