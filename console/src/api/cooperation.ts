/** The cooperation client (issue 19: agreements, flows, the receiving region, postings), configured as the others. */
import { CooperationApi } from './generated'
import { configuration } from './index'

export const cooperationApi = new CooperationApi(configuration)
