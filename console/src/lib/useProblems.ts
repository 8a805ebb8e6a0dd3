/**
 * A form's API errors: `fields` holds the Chinese message per field (bind it to `<el-form-item :error>`), and
 * `general` what names no field of this form, so no message the API gave is ever dropped.
 */
import { reactive, ref } from 'vue'
import { ApiProblem, call } from '@/api'

/**
 * `formFields`: the fields this form shows a message next to; `describe` names the others in the general list
 * (e.g. `worker_ids.3` → the person's name), so a message is never left without what it is about.
 */
export function useProblems(formFields: readonly string[] = [], describe?: (field: string) => string | undefined) {
  const fields = reactive<Record<string, string>>({})
  const general = ref<string[]>([])
  const busy = ref(false)
  /** Did the last `run` fail? (a 204 answers `undefined` too) */
  const failed = ref(false)

  function clear(field?: string) {
    if (field) {
      delete fields[field]
      return
    }
    for (const key of Object.keys(fields)) delete fields[key]
    general.value = []
  }

  function show(problem: ApiProblem) {
    clear()
    const loose: string[] = [...problem.general]
    for (const [field, text] of Object.entries(problem.fields)) {
      if (formFields.includes(field)) fields[field] = text
      else loose.push(field ? `${describe?.(field) ?? field}：${text}` : text)
    }
    general.value = loose
  }

  /** Send a request; on failure the messages land next to their fields and `undefined` is returned. */
  async function run<T>(request: () => Promise<T>): Promise<T | undefined> {
    clear()
    busy.value = true
    failed.value = false
    try {
      return await call(request)
    } catch (error) {
      failed.value = true
      if (error instanceof ApiProblem) show(error)
      else general.value = ['操作失败，请重试']
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { fields, general, busy, failed, run, clear, show }
}
