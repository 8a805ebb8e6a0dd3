/**
 * Sign-in through the generated client (`signIn`, `whoAmI`, `signOut`, `changePassword`), each failure an
 * ApiProblem like every other call (a wrong password: 用户名或密码错误 next to the password field).
 */
import type { Account } from '@/session'
import type { Role } from '@/router/types'
import { AccessApi, Configuration } from './generated'

// Its own configuration: the shared one's token getter reads the session, which imports this module.
let token: () => string = () => ''
const access = new AccessApi(new Configuration({ basePath: '', accessToken: () => token() }))

export function useToken(getter: () => string): void {
  token = getter
}

function account(a: { username: string | null; display_name: string | null; role: string; org: string; region: string | null }): Account {
  return { username: a.username, display_name: a.display_name, role: a.role as Role, org: a.org, region: a.region ?? '' }
}

async function problem(error: unknown): Promise<never> {
  const { toProblem } = await import('./index')
  throw await toProblem(error)
}

export const authApi = {
  async login(username: string, password: string) {
    const answer = await access.signIn({ loginRequest: { username, password } }).catch(problem)
    return { access_token: answer.access_token, expires_in: answer.expires_in, account: account(answer.account) }
  },
  async me(): Promise<Account> {
    return account(await access.whoAmI().catch(problem))
  },
  async logout(): Promise<void> {
    await access.signOut().catch(problem)
  },
  async changePassword(current_password: string, new_password: string): Promise<void> {
    await access.changePassword({ passwordChange: { current_password, new_password } }).catch(problem)
  },
}
