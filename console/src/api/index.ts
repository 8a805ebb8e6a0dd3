/**
 * The console's API layer: the client openapi-generator (`typescript-fetch`) made from the API's OpenAPI document
 * (./generated, see contract/client.py), configured once with the session's bearer token. `call()` wraps every
 * request so that a failure arrives as an ApiProblem with Chinese messages per field, and a 401 signs out.
 */
import {
  Configuration,
  EventsApi,
  ImportsApi,
  OrganizedOutputApi,
  ResponseError,
  FetchError,
  WorkersApi,
  BrandsApi,
  StatisticsApi,
  AccessApi,
  ExportsApi,
  type InitOverrideFunction,
  type Receipt,
} from './generated'
import { ApiProblem, problemFrom } from './problems'
import { session } from '@/session'
import router from '@/router'

export const configuration = new Configuration({
  basePath: '', // same origin: the API serves the console
  accessToken: () => session.token ?? '',
})

export const workersApi = new WorkersApi(configuration)
export const eventsApi = new EventsApi(configuration)
export const importsApi = new ImportsApi(configuration)
export const outputApi = new OrganizedOutputApi(configuration)
export const brandsApi = new BrandsApi(configuration)
export const statsApi = new StatisticsApi(configuration)
export const accessApi = new AccessApi(configuration)
export const exportsApi = new ExportsApi(configuration)

export { ApiProblem } from './problems'
export * from './auth'
import { useToken } from './auth'
useToken(() => session.token ?? '')

/** Any error a request can end in, as an ApiProblem. */
export async function toProblem(error: unknown): Promise<ApiProblem> {
  if (error instanceof ApiProblem) return error
  if (error instanceof ResponseError) {
    const response = error.response
    let body: unknown = null
    try {
      const text = await response.text()
      try {
        body = JSON.parse(text)
      } catch {
        body = { detail: text }
      }
    } catch {
      body = null
    }
    return problemFrom(response.status, body)
  }
  if (error instanceof FetchError) return new ApiProblem(0, {}, ['无法连接到服务器，请检查网络后重试'])
  return new ApiProblem(0, {}, ['操作失败，请重试'])
}

/** Run one API request; failures become ApiProblem (a 401 also signs out and goes to the sign-in page). */
export async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (error) {
    const problem = await toProblem(error)
    if (problem.status === 401 && session.token) {
      session.forget()
      const here = router.currentRoute.value
      if (!here.meta.public) await router.push({ path: '/login', query: { redirect: here.fullPath } })
    }
    throw problem
  }
}

/** Download what a Raw call answered (errors.xlsx, templates) under the given name. */
export async function saveBlob(blob: Blob, filename: string): Promise<void> {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** `Idempotency-Key` on a write (API.md): a retry of the same form sends the same key and gets the first answer. */
export function idempotent(key: string): InitOverrideFunction {
  return async ({ init }) => ({ headers: { ...(init.headers as Record<string, string>), 'Idempotency-Key': key } })
}

/** A fresh key per form filled in (kept until the form is sent successfully or changed). */
export function newKey(): string {
  // crypto.randomUUID exists only in secure contexts; an office intranet may serve the console over plain http.
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * What became of an accepted write: its receipt once `applied` or `rejected` (API.md "What a 202 promises"), or
 * the last `accepted` one when it takes longer than `timeoutMs` (the page then says it is still in progress).
 */
export async function settled(eventId: string, timeoutMs = 15000): Promise<Receipt> {
  const until = Date.now() + timeoutMs
  let delay = 200
  for (;;) {
    const receipt = await call(() => eventsApi.getEventReceipt({ eventId }))
    if (receipt.status !== 'accepted' || Date.now() > until) return receipt
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 1.5, 1500)
  }
}
