/**
 * Resident ID numbers (居民身份证号码, GB 11643) checked in the browser with the API's own rules
 * (laowu.domain.identity.parse_id_number), in the same order and words, so the clerk sees the message while typing
 * instead of after sending: 18 characters; 17 digits and a digit or X; the ISO 7064 MOD 11-2 check character; a real
 * birth date, not in the future, not before 1900; an address code that is a GB/T 2260 region. Birth date and sex
 * are read from the number (the 17th digit: odd for a man).
 */
import { RESIDENCE_PERMIT_CODES, loadRegions } from './regions'

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'
/** The legal minimum working age: a registration of someone younger is refused (API.md). */
export const MINIMUM_AGE = 16

/** What a clerk types, as the API reads it: no spaces, full-width digits and x made plain. */
export function normalizeIdNumber(raw: string): string {
  return raw
    .replace(/[\s\u3000]/g, '')
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[xｘＸ]/g, 'X')
}

/** The check character of the first 17 digits (ISO 7064 MOD 11-2). */
export function checkCharacter(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK[sum % 11]
}

export interface IdNumberInfo {
  number: string
  birthDate: string // YYYY-MM-DD
  sex: 'M' | 'F'
  regionCode: string
}

export type IdNumberCheck = { ok: true; info: IdNumberInfo } | { ok: false; rule: string; message: string; partial?: boolean }

const pad = (n: number) => String(n).padStart(2, '0')

/** The shape, check character and birth date (no table needed: answers at every keystroke). */
export function checkIdNumberShape(raw: string, today: Date = new Date()): IdNumberCheck {
  const number = normalizeIdNumber(raw)
  if (number.length !== 18) {
    const typing = number.length < 18 && /^\d*$/.test(number)
    return { ok: false, rule: 'length', message: `身份证号应为18位（已输入${number.length}位）`, partial: typing }
  }
  if (!/^\d{17}[\dX]$/.test(number)) return { ok: false, rule: 'format', message: '身份证号应为17位数字加1位数字或X' }
  const expected = checkCharacter(number)
  if (number[17] !== expected) return { ok: false, rule: 'check_digit', message: `身份证号校验位错误，应为${expected}` }
  const y = Number(number.slice(6, 10))
  const m = Number(number.slice(10, 12))
  const d = Number(number.slice(12, 14))
  const born = new Date(y, m - 1, d)
  if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d) {
    return { ok: false, rule: 'birth_date', message: `身份证号中的出生日期${number.slice(6, 14)}不存在` }
  }
  const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate())
  if (born > startOfToday) return { ok: false, rule: 'birth_date', message: '身份证号中的出生日期晚于今天' }
  if (y < 1900) return { ok: false, rule: 'birth_date', message: '身份证号中的出生日期早于1900年' }
  return {
    ok: true,
    info: {
      number,
      birthDate: `${y}-${pad(m)}-${pad(d)}`,
      sex: Number(number[16]) % 2 === 1 ? 'M' : 'F',
      regionCode: number.slice(0, 6),
    },
  }
}

/** Every rule, the address code against the region table too. */
export async function checkIdNumber(raw: string, today: Date = new Date()): Promise<IdNumberCheck> {
  const shape = checkIdNumberShape(raw, today)
  if (!shape.ok) return shape
  const code = shape.info.regionCode
  if (!RESIDENCE_PERMIT_CODES.has(code) && !(code in (await loadRegions()))) {
    return { ok: false, rule: 'region', message: `身份证号地址码${code}不是有效的行政区划代码` }
  }
  return shape
}

/** Whole years between a birth date and a day (both YYYY-MM-DD). */
export function ageOn(birthDate: string, on: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number)
  const [y, m, d] = on.split('-').map(Number)
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0)
}
