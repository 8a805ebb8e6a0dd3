import './casework.css'
// 大屏·预警办理 (issue 20): wage-arrears casework of the shown region — open and overdue cases, 欠薪预警办结率 and the
// median time to close — in a panel of its own, refreshed every 30 s. Self-contained: main.ts only imports it.
const CONSOLE_TOKEN_KEY = 'laowu.console.token'
const DASHBOARD_TOKEN_KEY = 'laowu.dashboard.token'

function region(): string | null {
  const m = /region=(\d{6})/.exec(window.location.hash)
  return m ? m[1] : null
}

async function figures(): Promise<Record<string, unknown> | null> {
  const token = sessionStorage.getItem(DASHBOARD_TOKEN_KEY) ?? sessionStorage.getItem(CONSOLE_TOKEN_KEY)
  if (!token) return null
  const code = region()
  const r = await fetch(`/v1/cases/figures?kind=wage_arrears${code ? `&region=${code}` : ''}`,
    { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store' })
  return r.ok ? ((await r.json()).total as Record<string, unknown>) : null
}

function render(panel: HTMLElement, f: Record<string, unknown> | null): void {
  const rate = f?.closure_rate == null ? '—' : `${(Number(f.closure_rate) * 100).toFixed(1)}%`
  const hours = f?.median_hours_to_close == null ? '—' : `${Number(f.median_hours_to_close).toFixed(0)} 小时`
  const cells: [string, string][] = [['未办结', String(f?.open ?? '—')], ['逾期', String(f?.overdue ?? '—')],
    ['欠薪预警办结率', rate], ['办结用时中位数', hours]]
  const body = panel.querySelector('.casework-kpis') as HTMLElement
  body.replaceChildren(...cells.map(([label, value]) => {
    const div = document.createElement('div')
    div.className = 'casework-kpi'
    const b = document.createElement('b')
    b.textContent = value
    const span = document.createElement('span')
    span.textContent = label
    div.append(b, span)
    return div
  }))
}

function mount(): void {
  const host = document.querySelector('main') ?? document.body
  const panel = document.createElement('section')
  panel.className = 'panel casework'
  panel.setAttribute('aria-label', '欠薪预警办理')
  panel.innerHTML = '<h2>欠薪预警办理</h2><div class="casework-kpis"></div>'
  host.appendChild(panel)
  const tick = async () => {
    try {
      render(panel, await figures())
    } catch {
      render(panel, null)
    }
  }
  void tick()
  window.addEventListener('hashchange', () => void tick())
  setInterval(() => void tick(), 30000)
}

mount()
