/**
 * A list read page by page with the API's cursors (`{"items", "next_cursor"}`): the cursors of the pages seen
 * are kept so that 上一页 goes back without the API having to page backwards.
 */
import { computed, ref, shallowRef, type Ref } from 'vue'
import { ApiProblem, call } from '@/api'

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}

export function useCursorList<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  const error = ref('')
  const cursors = ref<(string | undefined)[]>([undefined]) // cursor of each page seen; the last one is shown
  const next = ref<string | null>(null)

  async function load(cursor: string | undefined): Promise<boolean> {
    loading.value = true
    error.value = ''
    try {
      const page = await call(() => fetchPage(cursor))
      items.value = page.items
      next.value = page.next_cursor ?? null
      return true
    } catch (e) {
      error.value = e instanceof ApiProblem ? e.summary : '读取失败，请重试'
      return false
    } finally {
      loading.value = false
    }
  }

  return {
    items,
    loading,
    error,
    page: computed(() => cursors.value.length),
    hasNext: computed(() => next.value !== null),
    hasPrev: computed(() => cursors.value.length > 1),
    /** First page again (after a filter changed or a write). */
    async reload() {
      cursors.value = [undefined]
      await load(undefined)
    },
    /** The same page again. */
    async refresh() {
      await load(cursors.value[cursors.value.length - 1])
    },
    async nextPage() {
      if (next.value === null) return
      const cursor = next.value
      if (await load(cursor)) cursors.value = [...cursors.value, cursor]
    },
    async prevPage() {
      if (cursors.value.length < 2) return
      const previous = cursors.value.slice(0, -1)
      if (await load(previous[previous.length - 1])) cursors.value = previous
    },
  }
}
