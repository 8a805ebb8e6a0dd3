// 劳务品牌监测大屏 (the bureau's wall screen at /dashboard): a second page of the console's Vite build, plain
// TypeScript without Vue, ECharts from npm (./echarts, only the charts drawn). Data: /v1/stats/overview,
// /v1/targets, /v1/alerts, /v1/feed (SSE). Behaviour as before the move (tests/browser/test_dashboard.py).
import './dashboard.css'
import { echarts, type ECharts } from './echarts'
import { refreshCaseworkPanel } from './casework' // issue 20: 欠薪预警办理
import { refreshFlowPanel } from './flows'

/* eslint-disable @typescript-eslint/no-explicit-any -- the API's JSON, read field by field as before */
type Json = any

const TOKEN_KEY = "laowu.dashboard.token";
const TICKER_MAX = 40;
const REFRESH_DEBOUNCE_MS = 250;
const FALLBACK_REFRESH_MS = 30000;

// ---- credential: ?access_token= → sessionStorage, and out of the address bar ----------------------
(function takeToken() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("access_token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete("access_token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
})();
// Opened from the console (same origin, a new tab inherits its sessionStorage): its sign-in serves here too.
const CONSOLE_TOKEN_KEY = "laowu.console.token";
const token = (): string | null => sessionStorage.getItem(TOKEN_KEY) ?? sessionStorage.getItem(CONSOLE_TOKEN_KEY);

class AuthError extends Error {}

async function api(path: string): Promise<Json> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = "Bearer " + t;
  const r = await fetch(path, { headers, cache: "no-store" });
  if (r.status === 401) {
    showSignin();
    throw new AuthError("401");
  }
  if (!r.ok) throw new Error(`${path} → HTTP ${r.status}`);
  return r.json();
}

// ---- state -----------------------------------------------------------------------------------
const state: {
  region: string | null;
  crumbs: { code: string | null; name: string }[];
  overview: Json;
  source: EventSource | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  charts: Record<string, ECharts>;
  lastAlertsAt: number;
} = {
  region: regionFromHash(),      // null = the caller's whole jurisdiction
  crumbs: [],                    // [{code, name}] from the top of what the caller sees
  overview: null,
  source: null,
  timer: undefined,
  charts: {},
  lastAlertsAt: 0,
};

function regionFromHash(): string | null {
  const m = /region=(\d{6})/.exec(window.location.hash);
  return m ? m[1] : null;
}

const $ = (sel: string): HTMLElement => document.querySelector(sel) as HTMLElement;
const esc = (s: unknown): string => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" } as Record<string, string>)[c]);
const num = (v: Json): string => (v == null ? "—" : Number(v).toLocaleString("zh-CN"));
const pct = (v: Json): string => (v == null ? "—" : (Number(v) * 100).toFixed(1) + "%");
const money = (v: Json): string => (v == null ? "—" : Number(v).toLocaleString("zh-CN", { maximumFractionDigits: 0 }));
const shortId = (id: string | null | undefined): string => (id && id.length > 12 ? id.slice(0, 10) + "…" : id || "");
const hhmmss = (d: Date): string => d.toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });

// ---- rendering -------------------------------------------------------------------------------
function renderKpis(o: Json): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-kpi]")) {
    const key = el.dataset.kpi as string;
    const v = o[key];
    const fmt = el.dataset.format;
    const text = fmt === "percent" ? pct(v) : fmt === "money" ? money(v) : num(v);
    const b = el.querySelector("b") as HTMLElement;
    if (b.textContent !== text) {
      if (b.textContent !== "—") {
        el.classList.add("flash");
        setTimeout(() => el.classList.remove("flash"), 50);
      }
      b.textContent = text;
    }
    el.dataset.value = v == null ? "" : String(v);
  }
  $("#asof").textContent = (o.as_of || "").replace("T", " ").slice(0, 19);
}

function chart(id: string): ECharts {
  if (!state.charts[id]) state.charts[id] = echarts.init(document.getElementById(id) as HTMLElement, null, { renderer: "canvas" });
  return state.charts[id];
}

const ANIMATION = { animationDuration: 400, animationDurationUpdate: 300 };
const AXIS = { axisLine: { lineStyle: { color: "#35557f" } }, axisLabel: { color: "#9fb6d8" }, splitLine: { lineStyle: { color: "#16345a" } } };

function monthLabel(month: string, i: number): string {
  const [y, m] = month.split("-");
  return i === 0 || m === "01" ? `${y.slice(2)}年${Number(m)}月` : `${Number(m)}月`;
}

function renderTrend(series: Json[]): void {
  chart("trend").setOption({
    ...ANIMATION,
    color: ["#33c3ff", "#ffb547", "#3ddc97", "#ff5d6c"],
    grid: { left: 48, right: 16, top: 36, bottom: 28 },
    tooltip: { trigger: "axis" },
    legend: { textStyle: { color: "#c9dbf5" }, top: 0 },
    xAxis: { type: "category", data: series.map((m, i) => monthLabel(m.month, i)), ...AXIS },
    yAxis: { type: "value", minInterval: 1, ...AXIS },
    series: [
      { name: "新登记", type: "bar", barMaxWidth: 14, data: series.map((m) => m.registered) },
      { name: "有组织输出", type: "bar", barMaxWidth: 14, data: series.map((m) => m.outputs) },
      { name: "确认入职", type: "line", smooth: 0.3, smoothMonotone: "x", data: series.map((m) => m.placements_confirmed) },
      { name: "离职", type: "line", smooth: 0.3, smoothMonotone: "x", data: series.map((m) => m.separations) },
    ],
  }, true);
}

function renderBrands(brands: Json[]): void {
  const top = brands.slice(0, 10).reverse();
  chart("brands").setOption({
    ...ANIMATION,
    color: ["#33c3ff", "#3ddc97"],
    grid: { left: 96, right: 36, top: 30, bottom: 20 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { textStyle: { color: "#c9dbf5" }, top: 0 },
    xAxis: { type: "value", minInterval: 1, ...AXIS },
    yAxis: { type: "category", data: top.map((b) => b.name), ...AXIS },
    series: [
      { name: "登记人数", type: "bar", barMaxWidth: 12, data: top.map((b) => b.registered), label: { show: true, position: "right", color: "#c9dbf5" } },
      { name: "当前在岗", type: "bar", barMaxWidth: 12, data: top.map((b) => b.currently_employed) },
    ],
  }, true);
}

function renderRegions(rows: Json[]): void {
  const body = $("#regions tbody");
  if (!rows.length) {
    body.innerHTML = '<tr><td class="empty" colspan="7">暂无下级地区数据</td></tr>';
    return;
  }
  body.innerHTML = rows.map((r) => `<tr data-code="${esc(r.code)}" data-name="${esc(r.name || r.code)}">
    <td>${esc(r.name || r.code)}</td><td>${num(r.registered)}</td><td>${num(r.dispatched)}</td><td>${num(r.confirmed)}</td>
    <td>${num(r.currently_employed)}</td><td>${pct(r.followup_coverage)}</td><td>${pct(r.priority_group_share)}</td></tr>`).join("");
}

function renderCrumbs() {
  const parts = state.crumbs.map((c, i) => i === state.crumbs.length - 1
    ? `<span>${esc(c.name)}</span>`
    : `<a data-code="${esc(c.code || "")}">${esc(c.name)}</a><span class="sep">›</span>`);
  $("#crumbs").innerHTML = parts.join("");
}

const ALERT_NAMES: Record<string, string> = { unconfirmed_placement: "未确认到岗", followup_overdue: "跟踪服务逾期", wage_arrears: "欠薪",
  injury: "工伤", early_separation: "早期离职",
  employment_drop: "务工人数下降" }; // issue 20

function renderAlerts(counts: Record<string, number>, items: Json[]): void {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  $("#alert-total").textContent = total ? `共 ${num(total)} 条` : "";
  const kinds = Object.entries(counts).map(([k, n]) => `<span data-alert-kind="${esc(k)}">${esc(ALERT_NAMES[k] || k)} ${num(n)}</span>`).join("");
  const list = items.map((a) => `<li><span class="k">${esc(ALERT_NAMES[a.kind] || a.kind)}</span>
    <span>${esc(shortId(a.worker_id))}</span><span class="t">${esc((a.raised_at || "").slice(0, 10))}</span></li>`).join("");
  $("#alerts").innerHTML = `<div class="alert-kinds">${kinds || '<span style="background:none;border:0;color:#7f9cc4">暂无待处理预警</span>'}</div>
    <ul class="alert-list">${list}</ul>`;
}

function renderTargets(items: Json[]): void {
  const html = items.map((p) => {
    const goals = p.goals.map((g: Json) => {
      if (g.tracked === false) {
        return `<div class="goal"><div class="name"><span>${esc(g.label)}</span><span>未纳入统计</span></div>
          <div class="missing">${esc(g.reason)}</div></div>`;
      }
      const missing = (g.missing || []);
      const names = missing.slice(0, 8).map((m: Json) => m.name + (m.in_cultivation ? "(培育中)" : "")).join("、");
      const more = missing.length > 8 ? ` 等${missing.length}个` : "";
      const cls = ["goal", g.met ? "met" : "", g.overdue ? "overdue" : ""].join(" ");
      const range = g.target_max ? `${g.target}-${g.target_max}` : g.target;
      return `<div class="${cls}" data-goal="${esc(g.goal)}"><div class="name"><span>${esc(g.label)}</span>
        <span>${num(g.achieved)} / ${esc(range)}${g.in_cultivation ? ` · 培育中 ${num(g.in_cultivation)}` : ""} · 期限 ${esc(g.deadline)}</span></div>
        <div class="bar"><i style="width:${Math.round((g.progress || 0) * 100)}%"></i></div>
        ${missing.length ? `<div class="missing">尚无:${esc(names)}${esc(more)}</div>` : ""}</div>`;
    }).join("");
    return `<div class="programme">${esc(p.region.name)} · ${esc(p.document)}</div>${goals}`;
  }).join("");
  $("#targets").innerHTML = html || '<div class="goal"><div class="missing">本地区不涉及种子文件中的目标任务</div></div>';
}

const CAUSES: Record<string, string> = { "worker.registered": "从业人员登记", "worker.updated": "人员信息更新", "worker.brand_joined": "加入劳务品牌",
  "worker.certificate_added": "新增证书", "worker.training_completed": "完成培训", "dispatch.created": "有组织输出",
  "placement.confirmed": "入职确认", "placement.rejected": "未到岗", "placement.ended": "离职/返乡",
  "followup.recorded": "跟踪服务", "brand.registered": "品牌申报", "brand.updated": "品牌信息更新",
  "brand.status_changed": "品牌状态变更" };
const KIND_NAMES: Record<string, string> = { ledger: "台账", stats: "统计", alert: "预警" };

function describe(e: Json): string {
  if (e.kind === "ledger") {
    return [CAUSES[e.cause_type] || e.cause_type, e.region_name, shortId(e.worker_id || e.brand_id)].filter(Boolean).join(" · ");
  }
  if (e.kind === "alert") {
    return [(e.type === "alert.closed" ? "解除:" : "") + (ALERT_NAMES[e.alert_kind] || e.alert_kind), e.region_name, shortId(e.worker_id)].filter(Boolean).join(" · ");
  }
  const f = e.figures || {};
  return `统计更新 · 登记 ${num(f.registered)} · 在岗 ${num(f.currently_employed)}`;
}

function concernsView(e: Json): boolean {
  if (e.kind !== "stats") return true;
  return state.region ? e.scope === "region" && e.scope_id === state.region : e.scope === "overview";
}

function pushTicker(e: Json, id: string): void {
  if (!concernsView(e)) return;
  const li = document.createElement("li");
  li.dataset.kind = e.kind;
  li.dataset.feedId = id;
  for (const k of ["worker_id", "placement_id", "brand_id", "alert_id"]) if (e[k]) li.dataset[k.replace(/_(\w)/g, (_, c) => c.toUpperCase())] = e[k];
  const at = e.at ? new Date(e.at) : new Date();
  li.innerHTML = `<span class="time">${esc(hhmmss(at))}</span><span class="kind ${esc(e.kind)}">${esc(KIND_NAMES[e.kind] || e.kind)}</span>
    <span class="what">${esc(describe(e))}</span>`;
  const list = $("#ticker");
  list.prepend(li);
  while (list.children.length > TICKER_MAX) list.lastElementChild?.remove();
}

// ---- loading ---------------------------------------------------------------------------------
const q = (params: Record<string, string | null | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") s.set(k, v);
  const text = s.toString();
  return text ? "?" + text : "";
};

async function refresh(): Promise<void> {
  const o = await api("/v1/stats/overview" + q({ region: state.region }));
  state.overview = o;
  if (!state.crumbs.length) {
    state.crumbs = o.region ? [{ code: o.region.code, name: o.region.name || o.region.code }] : [{ code: null, name: "全国" }];
  }
  renderCrumbs();
  renderKpis(o);
  renderTrend(o.series || []);
  renderBrands(o.brands || []);
  renderRegions(o.children || []);
  refreshFlowPanel(api, state.region ?? (o.region ? o.region.code : null)).catch(report);  // 劳务流向 (issue 19, ./flows)
  refreshCaseworkPanel(api, state.region ?? (o.region ? o.region.code : null)).catch(report);  // 欠薪预警办理 (./casework)
  const alerts = await api("/v1/alerts" + q({ open: "true", region: o.region ? o.region.code : null, limit: "15" }));
  renderAlerts(o.alerts_open || {}, alerts.items || []);
}

async function refreshTargets(): Promise<void> {
  const t = await api("/v1/targets" + q({ region: state.region }));
  renderTargets(t.items || []);
}

function report(err: unknown): void {
  if (!(err instanceof AuthError)) console.error("dashboard:", err);
}

function scheduleRefresh(): void {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => refresh().catch(report), REFRESH_DEBOUNCE_MS);
}

function connectFeed(): void {
  if (state.source) state.source.close();
  const src = new EventSource("/v1/feed" + q({ region: state.region, access_token: token() }));
  state.source = src;
  const conn = $("#conn");
  src.onopen = () => { conn.className = "conn on"; conn.textContent = "实时连接"; };
  src.onerror = () => {
    conn.className = "conn off";
    conn.textContent = "重新连接中";
    // A refused connection (e.g. an expired credential) is not retried by EventSource itself.
    if (src.readyState === EventSource.CLOSED && state.source === src) {
      setTimeout(() => load().catch(report), 3000);
    }
  };
  src.onmessage = (msg) => {
    let e;
    try { e = JSON.parse(msg.data); } catch (err) { report(err); return; }
    pushTicker(e, msg.lastEventId);
    if (e.kind === "stats" || e.kind === "alert") scheduleRefresh();
  };
}

async function load(): Promise<void> {
  await Promise.all([refresh(), refreshTargets()]);
  connectFeed();  // only once the credential has been accepted
}

function goTo(code: string | null, name: string): void {
  const i = state.crumbs.findIndex((c) => c.code === code);
  if (i >= 0) state.crumbs = state.crumbs.slice(0, i + 1);
  else state.crumbs.push({ code, name });
  state.region = code;
  history.replaceState(null, "", window.location.pathname + window.location.search + (code ? "#region=" + code : ""));
  $("#ticker").innerHTML = "";
  load().catch(report);
}

function showSignin(): void {
  $("#signin").hidden = false;
}

function start(): void {
  $("#regions tbody").addEventListener("click", (ev) => {
    const tr = (ev.target as HTMLElement).closest<HTMLElement>("tr[data-code]");
    if (tr) goTo(tr.dataset.code ?? null, tr.dataset.name ?? "");
  });
  $("#crumbs").addEventListener("click", (ev) => {
    const a = (ev.target as HTMLElement).closest("a");
    if (a) goTo(a.dataset.code || null, a.textContent ?? "");
  });
  $("#signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, ($("#signin-token") as HTMLTextAreaElement).value.trim());
    $("#signin").hidden = true;
    load().catch(report);
  });
  window.addEventListener("resize", () => {
    Object.values(state.charts).forEach((c) => c.resize());
    const flows = document.getElementById("flows");  // ./flows keeps its chart on its element
    if (flows) echarts.getInstanceByDom(flows)?.resize();
  });
  const tick = () => { $("#clock").textContent = new Date().toLocaleString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }); };
  tick();
  setInterval(tick, 1000);
  setInterval(() => { refresh().catch(report); refreshTargets().catch(report); }, FALLBACK_REFRESH_MS);
  load().catch(report);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
