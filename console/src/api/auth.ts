/**
 * Sign-in (h18-contract.md: `POST /v1/auth/login`, `GET /v1/auth/me`, `POST /v1/auth/logout`).
 * TEMPORARY until the accounts branch is merged and the client regenerated: then these go through ./generated.
 */
import type { Account } from '@/session'
import { session } from '@/session'
import { problemFrom } from './problems'

export interface LoginAnswer {
  access_token: string
  token_type: string
  expires_in: number
  account: Account
}

async function json<T>(path: string, init: RequestInit): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (session.token) headers.Authorization = `Bearer ${session.token}`
  const response = await fetch(path, { ...init, headers })
  const text = await response.text()
  const body = text ? JSON.parse(text) : null
  if (!response.ok) throw problemFrom(response.status, body)
  return body as T
}

export const authApi = {
  login: (username: string, password: string) =>
    json<LoginAnswer>('/v1/auth/login', { method: 'POST', body: JSON.stringify({ username, password }) }),
  me: () => json<Account>('/v1/auth/me', { method: 'GET' }),
  logout: () => json<null>('/v1/auth/logout', { method: 'POST' }),
  changePassword: (current_password: string, new_password: string) =>
    json<null>('/v1/auth/password', { method: 'POST', body: JSON.stringify({ current_password, new_password }) }),
}
