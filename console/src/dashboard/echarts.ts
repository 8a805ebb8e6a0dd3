/**
 * ECharts from npm, only what the wall dashboard draws (bar and line charts on a grid, tooltips, legend, canvas):
 * the whole library is ~1 MB minified; this is a fraction of it (issue 18: "ECharts comes from npm, not a
 * vendored copy").
 */
import * as echarts from 'echarts/core'
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { echarts }
export type { ECharts } from 'echarts/core'
