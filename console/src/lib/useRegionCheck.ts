/** A region code field checked as it is typed: the region's name when it is one, the API's words when not. */
import { ref, watch, type Ref } from 'vue'
import { checkRegion } from './regions'

export function useRegionCheck(code: Ref<string>) {
  const ok = ref(false)
  const hint = ref('')
  const error = ref('')
  watch(
    code,
    async (value) => {
      ok.value = false
      error.value = ''
      hint.value = ''
      if (!value) return
      if (value.length < 6 && /^\d*$/.test(value)) {
        hint.value = `行政区划代码应为6位数字（已输入${value.length}位）`
        return
      }
      const check = await checkRegion(value)
      if (code.value !== value) return
      ok.value = check.ok
      if (check.ok) hint.value = check.text
      else error.value = check.text
    },
    { immediate: true },
  )
  return { ok, hint, error }
}
