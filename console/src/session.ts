/**
 * Who is signed in. The bearer token lives in sessionStorage (gone when the tab closes, never in a URL or a
 * cookie the API would have to defend against CSRF); the account comes from `GET /v1/auth/me`.
 */
import { reactive } from 'vue'
import type { Role } from '@/router/types'

const TOKEN_KEY = 'laowu.console.token'

export interface Account {
  username: string | null
  display_name: string | null
  role: Role
  org: string
  region: string
}

interface Session {
  token: string | null
  account: Account | null
  /** Load the account the token names (throws when the token is no longer good). */
  refresh(): Promise<void>
  signIn(token: string, account: Account | null): void
  forget(): void
}

export const session: Session = reactive({
  token: sessionStorage.getItem(TOKEN_KEY),
  account: null as Account | null,
  async refresh() {
    const { authApi } = await import('@/api')
    session.account = (await authApi.me()) as Account
  },
  signIn(token: string, account: Account | null) {
    sessionStorage.setItem(TOKEN_KEY, token)
    session.token = token
    session.account = account
  },
  forget() {
    sessionStorage.removeItem(TOKEN_KEY)
    session.token = null
    session.account = null
  },
})
