// @ts-check
// One plug: its state, charts (power; voltage and current on their own axes; temperature; energy per hour
// and per day), protection and relay events, downlink history, the keep-alive form and the relay buttons.
import { api, ApiFailure, query } from "./api.js";
import { chart, energyBars, seconds } from "./charts.js";
import { airtimeCell, keepaliveCell, statusCell } from "./fleet.js";
import { formatEnergy, formatNumber, formatTime, h, presetRange, TIME_ZONE } from "./format.js";
import { rangePicker } from "./ranges.js";

/**
 * @typedef {import("../client").Device} Device
 * @typedef {import("../client").Downlink} Downlink
 */

/** @param {unknown} error */
const words = (error) => (error instanceof Error ? error.message : String(error));

/** @param {number[]} values */
const stats = (values) => ({ min: Math.min(...values), max: Math.max(...values), mean: values.reduce((s, v) => s + v, 0) / values.length });

/**
 * @param {HTMLElement} _main
 * @param {(title: string, ...content: Node[]) => void} show
 * @param {string} devEui
 * @param {AbortSignal} signal
 */
export async function plugPage(_main, show, devEui, signal) {
  show("Plug", h("h1", null, devEui), h("p", { class: "status", role: "status" }, "Loading the plug…"));
  /** @type {Device} */
  let device = await api(`/api/devices/${devEui}`);
  if (signal.aborted) return;
  const title = device.name ?? devEui;

  const facts = h("div", { class: "cards" });
  const keepaliveStatus = h("div");
  const drawKeepalive = () => keepaliveStatus.replaceChildren(keepaliveFacts(device));
  const drawFacts = () => facts.replaceChildren(
    card("Status", statusCell(device)),
    card("Power now", formatNumber(device.power_W, "W"), "power"),
    card("Relay", device.relayState ?? "—", "relay"),
    card("Voltage", formatNumber(device.acVoltage_V, "V")),
    card("Current", formatNumber(device.acCurrent_mA, "mA")),
    card("Temperature", formatNumber(device.internalTemperature, "°C")),
    card("Energy counter", formatEnergy(device.energy_Wh)),
    card("Keep-alive", keepaliveCell(device), "keepalive"),
    card("Airtime", airtimeCell(device)));

  const charts = h("div", { class: "charts" });
  const events = h("div");
  const downlinks = h("div");
  let range = presetRange("7d");

  async function drawCharts() {
    charts.replaceChildren(h("p", { class: "status", role: "status" }, "Loading charts…"));
    events.replaceChildren(h("p", { class: "status" }, "Loading events…"));
    const r = query({ from: range.from, to: range.to });
    try {
      const [readings, hours, days, eventList] = await Promise.all([
        api(`/api/devices/${devEui}/readings?${r}`).then((/** @type {import("../client").ReadingSeries} */ a) => a),
        api(`/api/devices/${devEui}/energy?${query({ period: "hour", from: range.from, to: range.to })}`).then((/** @type {{ points: import("../client").EnergyPoint[] }} */ a) => a.points),
        api(`/api/devices/${devEui}/energy?${query({ period: "day", from: range.from, to: range.to, tz: TIME_ZONE })}`).then((/** @type {{ points: import("../client").EnergyPoint[] }} */ a) => a.points),
        api(`/api/devices/${devEui}/events?${r}`).then((/** @type {{ events: import("../client").DeviceEvent[] }} */ a) => a.events),
      ]);
      if (signal.aborted) return;
      const p = readings.points;
      const times = p.map((x) => seconds(x.time));
      /** @type {[number, number]} */
      const span = [range.from.getTime() / 1000, Math.min(range.to.getTime(), Date.now()) / 1000];
      const each = readings.resolution === "hour" ? "hourly averages" : "every keep-alive";
      const power = stats(p.map((x) => x.power_W)), volts = stats(p.map((x) => x.acVoltage_V)), amps = stats(p.map((x) => x.acCurrent_mA)), temp = stats(p.map((x) => x.internalTemperature));
      const sum = (/** @type {import("../client").EnergyPoint[]} */ list) => list.reduce((s, x) => s + x.energy_Wh, 0);
      const hourBars = energyBars(hours, "hour", range.from, range.to), dayBars = energyBars(days, "day", range.from, range.to, 1000);
      charts.replaceChildren(
        chart({ title: "Power", times, range: span, series: [{ label: "power", unit: "W", values: p.map((x) => x.power_W) }],
          summary: `${each}: max ${formatNumber(power.max, "W")}, mean ${formatNumber(power.mean, "W")}, ${p.length} points.`, empty: "No readings in this range." }),
        chart({ title: "Voltage and current", times, range: span, series: [
          { label: "voltage", unit: "V", values: p.map((x) => x.acVoltage_V) },
          { label: "current", unit: "mA", values: p.map((x) => x.acCurrent_mA) }],
          summary: `Voltage ${formatNumber(volts.min, "V")} to ${formatNumber(volts.max, "V")}; current up to ${formatNumber(amps.max, "mA")}.`, empty: "No readings in this range." }),
        chart({ title: "Energy per hour", bars: true, times: hours.length ? hourBars.times : [], range: hourBars.range, series: [{ label: "energy", unit: "Wh", values: hourBars.values }],
          summary: `${formatEnergy(sum(hours))}; ${hours.length} of ${hourBars.times.length} hours with consumption recorded.`, empty: "No energy recorded in this range." }),
        chart({ title: "Energy per day", bars: true, times: days.length ? dayBars.times : [], range: dayBars.range, series: [{ label: "energy", unit: "kWh", values: dayBars.values }],
          summary: `${formatEnergy(sum(days))} over ${dayBars.times.length} days (${TIME_ZONE} days).`, empty: "No energy recorded in this range." }),
        chart({ title: "Temperature", times, range: span, series: [{ label: "temperature", unit: "°C", values: p.map((x) => x.internalTemperature) }],
          summary: `${formatNumber(temp.min, "°C")} to ${formatNumber(temp.max, "°C")}.`, empty: "No readings in this range." }));
      events.replaceChildren(eventList.length === 0 ? h("p", { class: "muted" }, "No protection or relay events in this range.") : table(["Time", "Event", "Detail"], eventList.map((e) =>
        e.type === "protection"
          ? [formatTime(e.time), `${e.protection} ${e.phase}`, e.phase === "trip" ? `event ${e.eventCount ?? "?"}, at ${formatNumber(e.value, e.unit)}` : formatNumber(e.value, e.unit)]
          : [formatTime(e.time), `relay ${e.relayOn ? "on" : "off"}`, e.source === "manual" ? "switched by hand on the plug" : "reported on request"])));
    } catch (error) {
      charts.replaceChildren(h("p", { class: "error", role: "alert" }, words(error)));
      events.replaceChildren();
    }
  }

  async function drawDownlinks() {
    try {
      /** @type {{ downlinks: Downlink[] }} */
      const { downlinks: list } = await api(`/api/devices/${devEui}/downlinks`);
      downlinks.replaceChildren(list.length === 0 ? h("p", { class: "muted" }, "No downlinks sent to this plug yet.") : table(["Created", "Command", "Bytes", "State", "Updated"], list.map((d) => [
        formatTime(d.createdAt), h("code", null, JSON.stringify(d.data)), h("code", null, `${d.fPort}: ${d.bytes}`),
        h("span", null, h("span", { class: `badge state-${d.state}` }, d.state), d.error ? h("span", { class: "hint" }, ` ${d.error}`) : null),
        formatTime(d.updatedAt)])));
    } catch (error) {
      downlinks.replaceChildren(h("p", { class: "error", role: "alert" }, words(error)));
    }
  }

  async function refresh() {
    device = await api(`/api/devices/${devEui}`);
    drawFacts();
    drawKeepalive();
    await drawDownlinks();
  }

  drawFacts();
  drawKeepalive();
  show(title,
    h("p", null, h("a", { href: "/", "data-link": true }, "← Fleet")),
    h("h1", null, title),
    h("p", { class: "hint" }, h("code", null, devEui), ` · ${device.application ?? "no application"} · ${device.network === "ttn" ? "The Things Stack" : "ChirpStack"}`),
    facts,
    h("div", { class: "panel" }, h("h2", null, "Control"), keepaliveStatus, keepaliveForm(device, refresh), relayButtons(devEui, refresh)),
    h("h2", null, "Charts"),
    rangePicker(range, (r) => { range = r; void drawCharts(); }),
    charts,
    h("h2", null, "Protection and relay events"), events,
    h("h2", null, "Downlinks"), downlinks);
  await Promise.all([drawCharts(), drawDownlinks()]);
}

/** @param {string} label @param {Node | string} value @param {string} [figure] */
function card(label, value, figure) {
  return h("div", { class: "card" }, h("div", null, label), h("div", { class: "value", "data-figure": figure }, value));
}

/** @param {string[]} head @param {(Node | string)[][]} rows */
function table(head, rows) {
  return h("div", { class: "table-wrap" }, h("table", null,
    h("thead", null, h("tr", null, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", null, ...rows.map((r) => h("tr", null, ...r.map((c) => h("td", null, c)))))));
}

/** The keep-alive period's mode, target, desired, reported and why. @param {Device} device */
function keepaliveFacts(device) {
  const k = device.keepalive;
  return h("dl", { id: "keepalive-facts", class: "facts" },
    h("dt", null, "Mode"), h("dd", null, k.mode === "adaptive" ? `adaptive, target ${k.target} min` : "fixed"),
    h("dt", null, "Desired"), h("dd", null, k.desired === null ? "—" : `${k.desired} min`),
    h("dt", null, "Reported"), h("dd", null, k.reported === null ? "—" : `${k.reported} min`),
    h("dt", null, "Why"), h("dd", { id: "keepalive-reason" }, k.reason ?? "nothing set through the service"));
}

/**
 * The keep-alive period form, fixed or adaptive: the airtime the chosen period takes and the policy's
 * limits, shown before sending; the service's refusal or warnings shown after.
 * @param {Device} device @param {() => Promise<void>} refresh
 */
function keepaliveForm(device, refresh) {
  const k = device.keepalive;
  const adaptive = k.mode === "adaptive";
  const minutes = h("input", { id: "keepalive-minutes", name: "minutes", type: "number", min: 1, max: 255, step: 1, required: true,
    value: (adaptive ? k.target : k.desired) ?? k.reported ?? 10, "aria-describedby": "keepalive-airtime" });
  const adapt = h("input", { id: "keepalive-adapt", type: "checkbox", checked: adaptive });
  const force = h("input", { id: "keepalive-force", type: "checkbox", disabled: adaptive });
  adapt.addEventListener("change", () => {
    force.disabled = adapt.checked;
    if (adapt.checked) force.checked = false;
  });
  const figures = h("p", { id: "keepalive-airtime", class: "hint", "aria-live": "polite" });
  const result = h("p", { role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary" }, "Set keep-alive period");
  const update = () => {
    const n = Number(minutes.value);
    const a = device.airtime;
    if (!a || !Number.isFinite(n) || n <= 0) {
      figures.textContent = a ? "" : "The plug's spreading factor is not known yet, so its airtime cannot be worked out.";
      return;
    }
    const perDay = (a.keepAliveMs / 1000) * (1440 / n);
    const warnings = [
      n < a.minMinutesDutyCycle ? `below the duty-cycle minimum of ${a.minMinutesDutyCycle} min at SF${a.spreadingFactor}: the plug would send late` : "",
      n < a.minMinutesFairUse ? `over TTN's fair use of 30 s a day (minimum ${a.minMinutesFairUse} min at SF${a.spreadingFactor})` : "",
      n < 10 ? "the vendor recommends 10 minutes or more" : "",
    ].filter(Boolean);
    figures.replaceChildren(`Every ${n} min: ${Math.round(1440 / n)} keep-alives, ${perDay.toFixed(1)} s of airtime a day (${a.keepAliveMs.toFixed(1)} ms each at SF${a.spreadingFactor}).`,
      ...warnings.map((w) => h("span", { class: "warning" }, ` Warning: ${w}.`)));
  };
  minutes.addEventListener("input", update);
  update();
  const form = h("form", { class: "toolbar", "aria-label": "Keep-alive period" },
    h("label", { for: "keepalive-minutes" }, "Keep-alive period (minutes)", minutes),
    h("label", { class: "inline", for: "keepalive-adapt" }, adapt, "Adaptive: the period is a target, lengthened to what the airtime policy allows at the plug's radio"),
    h("label", { class: "inline", for: "keepalive-force" }, force, "Send even if the airtime policy refuses it"),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    result.className = "";
    result.textContent = "Sending…";
    try {
      /** @type {{ downlink: Downlink, warnings: string[] }} */
      const answer = await api(`/api/devices/${device.devEui}/keepalive`, {
        method: "PUT", body: { minutes: Number(minutes.value), adapt: adapt.checked, ...(force.checked && !adapt.checked ? { force: true } : {}) },
      });
      result.className = "ok";
      result.textContent = `Queued: ${answer.downlink.bytes} on fPort ${answer.downlink.fPort}; the plug confirms with its next report.${answer.warnings.length ? ` Warnings: ${answer.warnings.join("; ")}` : ""}`;
      await refresh();
    } catch (error) {
      result.className = "error";
      result.textContent = error instanceof ApiFailure ? `Not sent: ${error.message}` : words(error);
    } finally {
      button.disabled = false;
    }
  });
  return h("div", null, form, figures, result);
}

/** @param {string} devEui @param {() => Promise<void>} refresh */
function relayButtons(devEui, refresh) {
  const result = h("p", { role: "status", "aria-live": "polite" });
  /** @param {0 | 1} state */
  const button = (state) => {
    const b = h("button", { type: "button", class: "secondary", "data-relay": state ? "on" : "off" }, state ? "Switch relay on" : "Switch relay off");
    b.addEventListener("click", async () => {
      b.disabled = true;
      result.className = "";
      result.textContent = "Sending…";
      try {
        /** @type {{ downlink: Downlink, warnings: string[] }} */
        const answer = await api(`/api/devices/${devEui}/downlinks`, { method: "POST", body: { data: { setRelayState: state } } });
        result.className = "ok";
        result.textContent = `Queued: switch ${state ? "on" : "off"} (${answer.downlink.bytes}).`;
        await refresh();
      } catch (error) {
        result.className = "error";
        result.textContent = `Not sent: ${words(error)}`;
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  return h("div", null, h("div", { class: "toolbar", role: "group", "aria-label": "Relay" }, button(1), button(0)), result);
}
