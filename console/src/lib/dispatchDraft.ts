/** The people a clerk picked in the roster for the next dispatch (kept in memory: names and ids, never a URL). */
import { reactive } from 'vue'

export interface Picked {
  worker_id: string
  name: string
  id_number_masked: string
}

export const dispatchDraft = reactive({ workers: [] as Picked[] })

export function pick(workers: Picked[]): void {
  const known = new Set(dispatchDraft.workers.map((w) => w.worker_id))
  for (const w of workers) if (!known.has(w.worker_id)) dispatchDraft.workers.push(w)
}
