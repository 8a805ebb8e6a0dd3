/** How the console writes dates, times and money: 2026-03-01, 2026-03-01 09:30, 5,000.00 元. */

const pad = (n: number) => String(n).padStart(2, '0')

/** A calendar date: already `YYYY-MM-DD` from the API, or a Date / timestamp shown in local time. */
export function formatDate(value: string | Date | null | undefined): string {
  if (!value) return '—'
  if (typeof value === 'string' && /^\d{4}-\d{2}(-\d{2})?$/.test(value)) return value
  const d = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

export function formatDateTime(value: string | Date | null | undefined): string {
  if (!value) return '—'
  const d = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return `${formatDate(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

const yuan = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

/** Money in yuan (the API sends decimals as numbers or strings). */
export function formatYuan(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—'
  const n = typeof value === 'number' ? value : Number(value)
  return Number.isFinite(n) ? `${yuan.format(n)} 元` : String(value)
}

/** Today as YYYY-MM-DD in local time (the default of date fields). */
export function today(): string {
  return formatDate(new Date())
}

/** A date-only field of the generated client (`format: date` arrives as a Date at UTC midnight). */
export function formatDay(value: Date | string | null | undefined): string {
  if (!value) return '—'
  if (typeof value === 'string') return value.slice(0, 10)
  return Number.isNaN(value.getTime()) ? '—' : value.toISOString().slice(0, 10)
}

/** YYYY-MM-DD as the generated client's date (UTC midnight, which it writes back as the same day). */
export function day(value: string): Date {
  return new Date(`${value}T00:00:00Z`)
}
