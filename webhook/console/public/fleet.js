// @ts-check
// The fleet: every plug with its state, power now, energy today and this week, keep-alive and airtime;
// the fleet's energy per day; filtered by application, sorted by any column.
import { api, query } from "./api.js";
import { chart, energyBars } from "./charts.js";
import { ago, formatClock, formatDay, formatEnergy, formatNumber, formatTime, h, localMidnight, presetRange, scrollingTable, TIME_ZONE } from "./format.js";
import { rangePicker } from "./ranges.js";

/** TTN's fair-use budget: 30 s of uplink airtime per plug and day (keepalive-airtime.md). */
export const FAIR_USE_SECONDS = 30;

/**
 * @typedef {import("../client").Device} Device
 * @typedef {Device & { today: number, week: number }} Row
 * @typedef {{ key: string, label: string, num?: boolean, value: (r: Row) => string | number, cell: (r: Row) => Node | string, narrow?: boolean }} Column
 */

/** The keep-alive period a plug keeps now: reported, else the device's default 10 minutes. @param {Device} d */
const period = (d) => d.keepalive.reported ?? 10;

/** Airtime per day against its limits, in words. @param {Device} d */
export function airtimeCell(d) {
  if (!d.airtime) return h("span", { class: "muted" }, "not known yet");
  const p = period(d);
  const over = p < d.airtime.minMinutesDutyCycle ? "over the 1 % duty cycle" : p < d.airtime.minMinutesFairUse ? "over TTN fair use" : null;
  return h("span", null, h("span", { class: "nowrap" }, `${formatNumber(d.airtime.secondsPerDay, "s")}/day`),
    h("span", { class: "hint" }, ` of ${FAIR_USE_SECONDS} s (SF${d.airtime.spreadingFactor})`),
    over ? h("span", { class: "badge warning" }, over) : null);
}

/** @param {Device} d */
export function statusCell(d) {
  return h("span", { class: "nowrap" }, h("span", { class: `badge ${d.online ? "online" : "offline"}` }, d.online ? "online" : "offline"),
    h("span", { class: "hint", title: `last heard ${formatTime(d.lastSeen)}` }, ` ${ago(d.lastSeen)}`));
}

/** Power now while the plug is online; else its last reading, said to be one. @param {Device} d */
export function powerCell(d) {
  if (d.online || d.power_W === null) return formatNumber(d.power_W, "W");
  return h("span", { class: "muted", title: `last keep-alive ${formatTime(d.lastReadingAt ?? d.lastSeen)}` },
    h("span", { class: "nowrap" }, `last: ${formatNumber(d.power_W, "W")},`), " ", h("span", { class: "nowrap" }, ago(d.lastReadingAt ?? d.lastSeen)));
}

/**
 * The keep-alive period in words: what the plug reported, and what was asked of it; adaptive plugs marked, and
 * those held above their target by their radio.
 * @param {Device} d
 */
export function keepaliveCell(d) {
  const { desired, reported, state, mode, target, reason } = d.keepalive;
  const now = reported === null ? h("span", { class: "muted" }, "not reported yet") : h("span", { class: "nowrap" }, `every ${formatNumber(reported, "min")}`);
  const asked = desired === null ? null
    : state === "in_sync" ? h("span", { class: "badge state-in_sync", title: "the period set here, confirmed by the plug" }, "as set")
    : state === "pending" ? h("span", { class: "badge state-pending", title: "sent; the plug confirms with its next report" }, `→ ${formatNumber(desired, "min")} pending`)
    : state === "failed" ? h("span", { class: "badge state-failed", title: d.keepalive.error ?? "the plug did not take it" }, `${formatNumber(desired, "min")} failed`)
    : h("span", { class: "badge state-unknown" }, `set ${formatNumber(desired, "min")}`);
  const held = mode === "adaptive" && desired !== null && target !== null && desired > target;
  const adaptive = mode !== "adaptive" ? null
    : h("span", { class: `badge adaptive${held ? " held" : ""}`, title: reason ?? "", "data-adaptive": held ? "held" : "at-target" },
      held ? `adaptive: held above ${formatNumber(target, "min")}` : "adaptive");
  return h("span", null, now, asked ? " " : null, asked, adaptive ? " " : null, adaptive);
}

/** @type {Column[]} */
const COLUMNS = [
  { key: "name", label: "Plug", value: (r) => (r.name ?? r.devEui).toLowerCase(),
    cell: (r) => h("span", null, h("a", { href: `/plugs/${r.devEui}`, "data-link": true }, r.name ?? r.devEui), h("br"), h("code", { class: "hint" }, r.devEui)) },
  { key: "application", label: "Application", value: (r) => r.application ?? "", cell: (r) => h("span", { class: "nowrap" }, r.application ?? "—"), narrow: true },
  { key: "online", label: "Status", value: (r) => (r.online ? 1 : 0), cell: statusCell },
  { key: "power", label: "Power now", num: true, value: (r) => (r.online ? r.power_W ?? -1 : -1), cell: powerCell },
  { key: "today", label: "Today", num: true, value: (r) => r.today, cell: (r) => formatEnergy(r.today) },
  { key: "week", label: "7 days", num: true, value: (r) => r.week, cell: (r) => formatEnergy(r.week) },
  { key: "keepalive", label: "Keep-alive", value: (r) => r.keepalive.reported ?? 0, cell: keepaliveCell, narrow: true },
  { key: "airtime", label: "Airtime", num: true, value: (r) => r.airtime?.secondsPerDay ?? -1, cell: airtimeCell, narrow: true },
];

/**
 * @param {HTMLElement} _main
 * @param {(title: string, ...content: Node[]) => void} show
 * @param {AbortSignal} signal
 */
export async function fleetPage(_main, show, signal) {
  show("Fleet", h("h1", null, "Fleet"), h("p", { class: "status", role: "status" }, "Loading plugs…"));
  const now = new Date();
  const weekFrom = localMidnight(now, -6), today = localMidnight(now), tomorrow = localMidnight(now, 1);
  const [{ devices }, energy] = await Promise.all([
    api("/api/devices").then((/** @type {{ devices: Device[] }} */ a) => a),
    api(`/api/energy/devices?${query({ period: "day", from: weekFrom, to: tomorrow, tz: TIME_ZONE })}`)
      .then((/** @type {{ devices: { devEui: string, points: import("../client").EnergyPoint[] }[] }} */ a) => a.devices),
  ]);
  if (signal.aborted) return;
  const byDevice = new Map(energy.map((d) => [d.devEui, d.points]));
  /** @type {Row[]} */
  const rows = devices.map((d) => {
    const points = byDevice.get(d.devEui) ?? [];
    return { ...d, week: points.reduce((s, p) => s + p.energy_Wh, 0), today: points.filter((p) => Date.parse(p.time) >= today.getTime()).reduce((s, p) => s + p.energy_Wh, 0) };
  });

  if (rows.length === 0) {
    show("Fleet", h("h1", null, "Fleet"),
      h("p", null, "No plugs yet. A plug appears here once the service has stored its first uplink: point The Things Stack's webhook at /ttn or ChirpStack's HTTP integration at /chirpstack (the start-up message says how)."));
    return;
  }

  const applications = [...new Set(rows.map((r) => r.application).filter((a) => a !== null))].sort();
  const filter = h("select", { id: "application" }, h("option", { value: "" }, "All applications"), ...applications.map((a) => h("option", { value: a }, a)));
  let sort = { key: "name", ascending: true };
  const tbody = h("tbody");
  const headRow = h("tr");
  const counts = h("p", { class: "hint", role: "status" });
  const totals = h("div", { class: "cards" });

  const visible = () => rows.filter((r) => !filter.value || r.application === filter.value);
  function drawTable() {
    const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0];
    const list = visible().sort((a, b) => {
      const [x, y] = [column.value(a), column.value(b)];
      return (x < y ? -1 : x > y ? 1 : 0) * (sort.ascending ? 1 : -1);
    });
    headRow.replaceChildren(...COLUMNS.map((c) => {
      const button = h("button", { type: "button" }, c.label);
      button.addEventListener("click", () => {
        sort = { key: c.key, ascending: sort.key === c.key ? !sort.ascending : true };
        drawTable();
        /** @type {HTMLButtonElement | null} */ (headRow.querySelector(`[data-key="${c.key}"] button`))?.focus();
      });
      return h("th", { scope: "col", "data-key": c.key, class: [c.num ? "num" : "", c.narrow ? "hide-narrow" : ""].join(" ").trim() || undefined,
        "aria-sort": sort.key === c.key ? (sort.ascending ? "ascending" : "descending") : undefined }, button);
    }));
    tbody.replaceChildren(...list.map((r) => h("tr", { "data-dev-eui": r.devEui },
      ...COLUMNS.map((c) => h("td", { class: [c.num ? "num" : "", c.narrow ? "hide-narrow" : ""].join(" ").trim() || undefined, "data-key": c.key, "data-label": c.label }, c.cell(r))))));
    const online = list.filter((r) => r.online).length;
    counts.textContent = `${list.length} plug${list.length === 1 ? "" : "s"}, ${online} online`;
    const sum = (/** @type {(r: Row) => number} */ f) => list.reduce((s, r) => s + f(r), 0);
    totals.replaceChildren(
      h("div", { class: "card" }, h("div", null, "Online"), h("div", { class: "value", "data-figure": "online" }, `${online} / ${list.length}`)),
      h("div", { class: "card" }, h("div", null, "Power now"), h("div", { class: "value", "data-figure": "power" }, formatNumber(sum((r) => (r.online ? r.power_W ?? 0 : 0)), "W"))),
      h("div", { class: "card" }, h("div", null, "Energy today"), h("div", { class: "value", "data-figure": "today" }, formatEnergy(sum((r) => r.today)))),
      h("div", { class: "card" }, h("div", null, "Energy, 7 days"), h("div", { class: "value", "data-figure": "week" }, formatEnergy(sum((r) => r.week)))));
  }

  const chartSlot = h("div");
  let range = presetRange("30d");
  async function drawChart() {
    chartSlot.replaceChildren(h("p", { class: "status", role: "status" }, "Loading energy…"));
    const hourly = range.to.getTime() - range.from.getTime() <= 2 * 86_400_000;
    // Whole periods only, and the summary names them: hours as chosen, days widened to their midnights.
    const from = hourly ? range.from : localMidnight(range.from);
    const to = hourly || localMidnight(range.to).getTime() === range.to.getTime() ? range.to : localMidnight(range.to, 1);
    try {
      /** @type {{ points: import("../client").EnergyPoint[] }} */
      const { points } = await api(`/api/energy?${query({ period: hourly ? "hour" : "day", from, to, tz: TIME_ZONE, application: filter.value || undefined })}`);
      const total = points.reduce((s, p) => s + p.energy_Wh, 0);
      const bars = energyBars(points, hourly ? "hour" : "day", from, to);
      const end = to.getTime() > Date.now() ? "now" : hourly ? `${formatDay(to)} ${formatClock(to)}` : formatDay(new Date(to.getTime() - 1));
      const covers = hourly ? `from ${formatDay(from)} ${formatClock(from)} to ${end}, in whole hours` : `from ${formatDay(from)} to ${end}, in whole ${TIME_ZONE} days`;
      chartSlot.replaceChildren(chart({
        title: hourly ? "Fleet energy per hour" : "Fleet energy per day", bars: true, days: !hourly, times: points.length ? bars.times : [], range: bars.range,
        series: [{ label: "energy", unit: bars.unit, values: bars.values }],
        summary: `${formatEnergy(total)} ${covers}.`,
        empty: "No energy recorded in this range.",
      }));
    } catch (error) {
      chartSlot.replaceChildren(h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error)));
    }
  }

  filter.addEventListener("change", () => {
    drawTable();
    void drawChart();
  });
  drawTable();
  show("Fleet", h("h1", null, "Fleet"),
    h("div", { class: "toolbar" }, h("label", { for: "application" }, "Application", filter), counts),
    totals,
    scrollingTable(h("table", { "aria-label": "Plugs", class: "reflow" }, h("thead", null, headRow), tbody)),
    h("p", { class: "hint" }, `Today: since midnight; 7 days: today and the 6 days before; local days in ${TIME_ZONE}. Power now: online plugs only; an offline plug shows its last reading. Keep-alive: the period the plug reported, and the one set here. Airtime: the keep-alives' time on air per day at the reported period.`),
    h("h2", null, "Fleet energy"),
    rangePicker(range, (r) => { range = r; void drawChart(); }),
    chartSlot);
  await drawChart();
}
