/**
 * 劳务流向 (issue 19): people sent from each origin to each destination as a Sankey chart (ECharts from npm, only
 * the Sankey added here), split by distance class (跨省 / 省内跨市 / 市内跨县 / 县内). Shared by the wall
 * dashboard's flow panel (mountFlowPanel, wired into ./main.ts with one call) and the console's flow page.
 */
import { SankeyChart } from 'echarts/charts'
import { echarts, type ECharts } from './echarts'

echarts.use([SankeyChart])

export interface Flow {
  origin_region: string
  origin_region_name?: string | null
  destination_region: string
  destination_region_name?: string | null
  distance_class: string
  distance_label: string
  sent: number
  confirmed: number
}

export const DISTANCE_LABELS: Record<string, string> = {
  cross_province: '跨省', cross_city: '省内跨市', cross_county: '市内跨县', in_county: '县内',
}
const DISTANCE_COLORS: Record<string, string> = {
  cross_province: '#5470c6', cross_city: '#91cc75', cross_county: '#fac858', in_county: '#ee6666',
}
export type Level = 'province' | 'city' | 'county'
/** The level a region's flows are drawn at: one finer than the region (the whole country: provinces). */
export function levelBelow(region: string | null | undefined): Level {
  if (!region) return 'province'
  if (region.endsWith('0000')) return 'city'
  return 'county'
}

const outName = (f: Flow) => `输出·${f.origin_region_name || f.origin_region}`
const inName = (f: Flow) => `输入·${f.destination_region_name || f.destination_region}`

/** The Sankey option: a node per origin (输出·) and destination (输入·), a link per flow coloured by distance. */
export function flowOption(flows: Flow[], dark = false): Record<string, unknown> {
  const nodes = new Map<string, { name: string; code: string; side: string }>()
  const links: Record<string, unknown>[] = []
  for (const f of flows) {
    nodes.set(outName(f), { name: outName(f), code: f.origin_region, side: 'origin' })
    nodes.set(inName(f), { name: inName(f), code: f.destination_region, side: 'destination' })
    links.push({
      source: outName(f), target: inName(f), value: f.sent,
      lineStyle: { color: DISTANCE_COLORS[f.distance_class] ?? '#999', opacity: 0.55 },
      distance: f.distance_label, confirmed: f.confirmed,
    })
  }
  const text = dark ? '#e6edf7' : '#303133'
  return {
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataType: string; data: Record<string, unknown>; value: number; name: string }) =>
        p.dataType === 'edge'
          ? `${p.data.source} → ${p.data.target}<br/>${p.data.distance}：输出 ${p.value} 人次，确认入职 ${p.data.confirmed} 人次`
          : `${p.name}：${p.value} 人次`,
    },
    series: [{
      type: 'sankey', data: [...nodes.values()], links, emphasis: { focus: 'adjacency' }, nodeGap: 10,
      left: 8, right: 220, label: { color: text, fontSize: 13 }, lineStyle: { curveness: 0.5 },
    }],
  }
}

export function drawFlows(chart: ECharts, flows: Flow[], dark = false): void {
  chart.setOption(flowOption(flows, dark), true)
}

/** The wall dashboard's panel: it adds its own section to <main> and redraws on every refresh of the page. */
export async function refreshFlowPanel(api: (path: string) => Promise<any>, region: string | null): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  let panel = document.getElementById('flows-panel')
  if (!panel) {
    panel = document.createElement('section')
    panel.id = 'flows-panel'
    panel.className = 'panel flows'
    panel.innerHTML = '<h2>劳务流向 <small id="flows-totals"></small></h2><div id="flows" class="chart"></div>'
    document.querySelector('main')?.appendChild(panel)
  }
  const params = new URLSearchParams({ level: levelBelow(region) })
  if (region) params.set('region', region)
  const body = await api('/v1/flows?' + params.toString())
  const el = document.getElementById('flows') as HTMLElement
  const chart = echarts.getInstanceByDom(el) ?? echarts.init(el, null, { renderer: 'canvas' })
  drawFlows(chart, body.items ?? [], true)
  const totals = body.totals ?? {}
  const small = document.getElementById('flows-totals') as HTMLElement
  small.textContent = Object.keys(DISTANCE_LABELS).map((k) => `${DISTANCE_LABELS[k]} ${totals[k] ?? 0}`).join(' · ')
}
