import './casework.css'
// 大屏·预警办理 (issue 20): wage-arrears casework of the shown region — open and overdue cases, 欠薪预警办结率 and the
// median time to close — in a panel of its own. main.ts redraws it with every refresh of the page, through its own
// authenticated fetch, so it follows the credential taken from the address bar, a sign-in and a drill-down at once.

/* eslint-disable @typescript-eslint/no-explicit-any -- the API's JSON, read field by field */
type Api = (path: string) => Promise<any>

function render(panel: HTMLElement, f: Record<string, unknown> | null): void {
  const rate = f?.closure_rate == null ? '—' : `${(Number(f.closure_rate) * 100).toFixed(1)}%`
  const hours = f?.median_hours_to_close == null ? '—' : `${Number(f.median_hours_to_close).toFixed(0)} 小时`
  const cells: [string, string, string][] = [['open', '未办结', String(f?.open ?? '—')],
    ['overdue', '逾期', String(f?.overdue ?? '—')], ['closure_rate', '欠薪预警办结率', rate],
    ['median_hours_to_close', '办结用时中位数', hours]]
  const body = panel.querySelector('.casework-kpis') as HTMLElement
  body.replaceChildren(...cells.map(([key, label, value]) => {
    const div = document.createElement('div')
    div.className = 'casework-kpi'
    div.dataset.casework = key
    const b = document.createElement('b')
    b.textContent = value
    const span = document.createElement('span')
    span.textContent = label
    div.append(b, span)
    return div
  }))
}

function panel(): HTMLElement {
  let el = document.getElementById('casework-panel')
  if (!el) {
    el = document.createElement('section')
    el.id = 'casework-panel'
    el.className = 'panel casework'
    el.setAttribute('aria-label', '欠薪预警办理')
    el.innerHTML = '<h2>欠薪预警办理</h2><div class="casework-kpis"></div>'
    document.querySelector('main')?.appendChild(el)
  }
  return el
}

/** Draw the panel for ``region`` (null: everything the credential sees); dashes while the figures cannot be read. */
export async function refreshCaseworkPanel(api: Api, region: string | null): Promise<void> {
  const el = panel()
  try {
    const body = await api(`/v1/cases/figures?kind=wage_arrears${region ? `&region=${region}` : ''}`)
    render(el, (body?.total as Record<string, unknown>) ?? null)
    el.dataset.region = region ?? ''  // what the figures are of, for whoever reads the page
  } catch (err) {
    render(el, null)
    throw err
  }
}
