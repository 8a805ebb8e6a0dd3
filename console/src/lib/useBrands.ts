/** The brand library for choosing a brand (registration, dispatch): open brands, read once per page. */
import { computed, ref } from 'vue'
import { brandsApi, call } from '@/api'
import type { BrandPublic } from '@/api/generated'

export function useBrands() {
  const brands = ref<BrandPublic[]>([])
  const loading = ref(false)
  async function load() {
    loading.value = true
    try {
      const out: BrandPublic[] = []
      let cursor: string | undefined
      do {
        const page = await call(() => brandsApi.listBrands({ limit: 500, cursor }))
        out.push(...page.items)
        cursor = page.next_cursor ?? undefined
      } while (cursor && out.length < 2000)
      brands.value = out
    } finally {
      loading.value = false
    }
  }
  const open = computed(() => brands.value.filter((b) => b.status !== 'suspended' && b.status !== 'revoked'))
  // A brand by its name where the viewer's list holds it; its id otherwise (never a blank).
  const nameOf = (id: string): string => brands.value.find((b) => b.brand_id === id)?.name ?? id
  return { brands, open, loading, load, nameOf }
}
