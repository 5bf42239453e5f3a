// @ts-check
// The export: energy per hour or day as CSV (GET /api/export/energy.csv), for billing and spreadsheets,
// with a preview of what the file holds.
import { api, query } from "./api.js";
import { formatEnergy, formatNumber, formatTime, h, localMidnight, scrollingTable, TIME_ZONE } from "./format.js";

/** The rows the preview shows; the rest are counted. */
export const PREVIEW_ROWS = 10;

/** @param {Date} d the value of a date input */
const dateValue = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/**
 * @param {HTMLElement} _main
 * @param {(title: string, ...content: Node[]) => void} show
 * @param {AbortSignal} signal
 */
export async function exportPage(_main, show, signal) {
  /** @type {{ devices: import("../client").Device[] }} */
  const { devices } = await api("/api/devices");
  if (signal.aborted) return;
  const now = new Date();
  const period = h("select", { id: "export-period" }, h("option", { value: "day" }, "per day"), h("option", { value: "hour" }, "per hour"));
  const from = h("input", { id: "export-from", type: "date", required: true, value: dateValue(localMidnight(now, -30)) });
  const to = h("input", { id: "export-to", type: "date", required: true, value: dateValue(now) });
  const zone = h("select", { id: "export-zone" }, h("option", { value: TIME_ZONE }, `${TIME_ZONE} (this browser)`), TIME_ZONE === "UTC" ? null : h("option", { value: "UTC" }, "UTC"));
  const plug = h("select", { id: "export-plug" }, h("option", { value: "" }, "every plug"),
    ...devices.map((d) => h("option", { value: d.devEui }, d.name ? `${d.name} (${d.devEui})` : d.devEui)));
  const download = h("a", { class: "primary", id: "export-download", download: true }, "Download CSV");
  const preview = h("p", { role: "status", "aria-live": "polite" });
  const rowsShown = h("div", { id: "export-preview" });

  async function update() {
    // Whole local days, "to" included: its midnight is the day after.
    const fromDate = new Date(`${from.value}T00:00`), toDate = new Date(`${to.value}T00:00`);
    if (Number.isNaN(fromDate.getTime()) || Number.isNaN(toDate.getTime()) || fromDate > toDate) {
      download.removeAttribute("href");
      preview.className = "error";
      preview.textContent = "Choose a first day on or before the last day.";
      rowsShown.replaceChildren();
      return;
    }
    const toExclusive = localMidnight(toDate, 1);
    // The zone's midnights: for UTC the dates' UTC midnights.
    const bounds = zone.value === "UTC"
      ? { from: new Date(`${from.value}T00:00Z`), to: new Date(Date.parse(`${to.value}T00:00Z`) + 86_400_000) }
      : { from: fromDate, to: toExclusive };
    const q = query({ period: period.value, ...bounds, tz: zone.value, devEui: plug.value || undefined });
    download.href = `/api/export/energy.csv?${q}`;
    preview.className = "";
    preview.textContent = "Counting…";
    try {
      // The same rows as the file (one query behind both), in its order: by plug, then time.
      /** @type {{ devices: { devEui: string, name: string | null, points: import("../client").EnergyPoint[] }[] }} */
      const answer = await api(`/api/energy/devices?${query({ period: period.value, ...bounds, tz: zone.value })}`);
      const chosen = answer.devices.filter((d) => !plug.value || d.devEui === plug.value);
      const rows = chosen.flatMap((d) => d.points.map((p) => ({ devEui: d.devEui, name: d.name, ...p })));
      const total = rows.reduce((s, r) => s + r.energy_Wh, 0);
      preview.textContent = rows.length === 0 ? "No energy recorded in this range: the file would hold only its header."
        : `The file holds ${formatNumber(rows.length, "", 0)} rows (${chosen.length} plug${chosen.length === 1 ? "" : "s"}), ${formatEnergy(total)} in all.${
          rows.length > PREVIEW_ROWS ? ` The first ${PREVIEW_ROWS}:` : ""}`;
      rowsShown.replaceChildren(rows.length === 0 ? "" : scrollingTable(h("table", { "aria-label": "The file's first rows" },
        h("thead", null, h("tr", null, ...["dev_eui", "name", "period_start (UTC)", "energy_wh", "period start, your zone"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, ...rows.slice(0, PREVIEW_ROWS).map((r) => h("tr", null,
          h("td", null, h("code", null, r.devEui)), h("td", null, r.name ?? ""), h("td", null, h("code", null, r.time)),
          h("td", { class: "num" }, String(r.energy_Wh)), h("td", { class: "hint" }, formatTime(r.time))))))));
    } catch (error) {
      preview.className = "error";
      preview.textContent = error instanceof Error ? error.message : String(error);
      rowsShown.replaceChildren();
    }
  }
  for (const input of [period, from, to, zone, plug]) input.addEventListener("change", () => void update());

  show("Export", h("h1", null, "Export energy"),
    h("p", null, "Energy per hour or per day as CSV, one row per plug and period: ", h("code", null, "dev_eui,name,period_start,energy_wh"), ". Times are UTC (ISO 8601); days run from midnight to midnight in the zone you choose."),
    h("form", { class: "toolbar", "aria-label": "Export" },
      h("label", { for: "export-period" }, "Energy", period),
      h("label", { for: "export-from" }, "First day", from),
      h("label", { for: "export-to" }, "Last day", to),
      h("label", { for: "export-zone" }, "Days of", zone),
      h("label", { for: "export-plug" }, "Plugs", plug)),
    h("p", null, download), preview, rowsShown);
  await update();
}
