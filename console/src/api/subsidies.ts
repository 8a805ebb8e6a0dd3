/** The organizations registry and the subsidy workflow (issue 21): the generated client's API, configured as the
 * others in ./index.ts (kept apart so the shared module stays as it was). */
import { OrganizationsAndSubsidiesApi } from './generated'
import { configuration } from './index'

export const subsidyApi = new OrganizationsAndSubsidiesApi(configuration)
