// @ts-check
// One plug: its state, charts (power; voltage and current on their own axes; temperature; energy per hour
// and per day), protection and relay events, downlink history, the keep-alive form and the relay buttons.
import { api, ApiFailure, query } from "./api.js";
import { chart, daysOfHours, energyBars, seconds } from "./charts.js";
import { airtimeCell, keepaliveCell, powerCell, statusCell } from "./fleet.js";
import { ago, formatClock, formatDay, formatEnergy, formatLeastMinutes, formatNumber, formatTime, h, presetRange, scrollingTable, TIME_ZONE } from "./format.js";
import { rangePicker } from "./ranges.js";

/**
 * @typedef {import("../client").Device} Device
 * @typedef {import("../client").Downlink} Downlink
 */

/** Where a relay event was seen, in words. */
const RELAY_SOURCES = { manual: "switched by hand on the plug", reported: "reported on request", keepalive: "seen in its keep-alives (a change from the one before)" };

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
  const heading = h("h1", null, title);

  const facts = h("div", { class: "cards" });
  const keepaliveStatus = h("div");
  const drawKeepalive = () => keepaliveStatus.replaceChildren(keepaliveFacts(device));
  const stale = h("p", { class: "hint", "data-figure": "stale" });
  const drawFacts = () => {
    stale.textContent = !device.online && device.lastReadingAt
      ? `Offline: power, relay, voltage, current and temperature are from its last keep-alive, ${formatTime(device.lastReadingAt)} (${ago(device.lastReadingAt)}).` : "";
    facts.replaceChildren(
    card("Status", statusCell(device)),
    card(device.online || device.power_W === null ? "Power now" : "Last power", powerCell(device), "power"),
    card("Relay", device.relayState ?? "—", "relay"),
    card("Voltage", formatNumber(device.acVoltage_V, "V")),
    card("Current", formatNumber(device.acCurrent_mA, "mA")),
    card("Temperature", formatNumber(device.internalTemperature, "°C")),
    card("Energy counter", formatEnergy(device.energy_Wh)),
    card("Keep-alive", keepaliveCell(device), "keepalive"),
    card("Airtime", airtimeCell(device)));
  };

  const charts = h("div", { class: "charts" });
  const events = h("div");
  const downlinks = h("div");
  let range = presetRange("7d");

  async function drawCharts() {
    charts.replaceChildren(h("p", { class: "status", role: "status" }, "Loading charts…"));
    events.replaceChildren(h("p", { class: "status" }, "Loading events…"));
    const r = query({ from: range.from, to: range.to });
    try {
      const [readings, hours, eventList] = await Promise.all([
        api(`/api/devices/${devEui}/readings?${r}`).then((/** @type {import("../client").ReadingSeries} */ a) => a),
        api(`/api/devices/${devEui}/energy?${query({ period: "hour", from: range.from, to: range.to })}`).then((/** @type {{ points: import("../client").EnergyPoint[] }} */ a) => a.points),
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
      const hourBars = energyBars(hours, "hour", range.from, range.to), days = daysOfHours(hours, range.from, range.to);
      // Both energy charts hold the range's hours: one total, labelled with the times it covers.
      const now = Date.now();
      const at = (/** @type {Date} */ d) => `${formatDay(d)} ${formatClock(d)}`;
      const covers = `from ${at(range.from)} to ${range.to.getTime() > now ? "now" : at(range.to)}`;
      const hoursSoFar = hourBars.times.filter((t) => t * 1000 < now).length;
      const partDays = days.partDays.map((d) => `${formatDay(d.day)} ${d.from ? `from ${formatClock(d.from)}` : ""}${d.from && d.to ? " " : ""}${d.to ? `to ${d.to.getTime() > now ? "now" : formatClock(d.to)}` : ""}`);
      charts.replaceChildren(
        chart({ title: "Power", times, range: span, series: [{ label: "power", unit: "W", values: p.map((x) => x.power_W) }],
          summary: `${each}: max ${formatNumber(power.max, "W")}, mean ${formatNumber(power.mean, "W")}, ${p.length} points.`, empty: "No readings in this range." }),
        chart({ title: "Voltage and current", times, range: span, series: [
          { label: "voltage", unit: "V", values: p.map((x) => x.acVoltage_V), zero: false },
          { label: "current", unit: "mA", values: p.map((x) => x.acCurrent_mA) }],
          summary: `Voltage ${formatNumber(volts.min, "V")} to ${formatNumber(volts.max, "V")}; current up to ${formatNumber(amps.max, "mA")}.`, empty: "No readings in this range." }),
        chart({ title: "Energy per hour", bars: true, times: hours.length ? hourBars.times : [], range: hourBars.range, series: [{ label: "energy", unit: hourBars.unit, values: hourBars.values }],
          summary: `${formatEnergy(sum(hours))} ${covers}: ${hoursSoFar} hours, ${hours.length} with keep-alives.`, empty: "No energy recorded in this range." }),
        chart({ title: "Energy per day", bars: true, days: true, times: hours.length ? days.times : [], range: days.range, series: [
          ...(days.whole.some((v) => v !== null) ? [{ label: "energy", unit: days.unit, values: days.whole }] : []),
          ...(partDays.length ? [{ label: "part of a day", unit: days.unit, values: days.part, light: true }] : [])],
          summary: `${formatEnergy(days.total)} ${covers} (the hours above), in ${days.times.length} ${TIME_ZONE} day${days.times.length === 1 ? "" : "s"}${
            partDays.length ? `; part days, lighter: ${partDays.join(", ")}` : ""}.`, empty: "No energy recorded in this range." }),
        chart({ title: "Temperature", times, range: span, series: [{ label: "temperature", unit: "°C", values: p.map((x) => x.internalTemperature), zero: false }],
          summary: `${formatNumber(temp.min, "°C")} to ${formatNumber(temp.max, "°C")}.`, empty: "No readings in this range." }));
      events.replaceChildren(eventList.length === 0 ? h("p", { class: "muted" }, "No protection or relay events in this range.") : table(["Time", "Event", "Detail"], eventList.map((e) =>
        e.type === "protection"
          ? [formatTime(e.time), `${e.protection} ${e.phase}`, e.phase === "trip" ? `event ${e.eventCount ?? "?"}, at ${formatNumber(e.value, e.unit)}` : formatNumber(e.value, e.unit)]
          : [formatTime(e.time), `relay ${e.relayState === "ON" ? "on" : "off"}`, RELAY_SOURCES[e.source]])));
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
    heading,
    h("p", { class: "hint" }, h("code", null, devEui), ` · ${device.application ?? "no application"} · ${device.network === "ttn" ? "The Things Stack" : "ChirpStack"}`),
    facts, stale,
    h("div", { class: "panel" }, h("h2", null, "Control"), keepaliveStatus, keepaliveForm(device, refresh), relayButtons(devEui, refresh)),
    h("h2", null, "Charts"),
    rangePicker(range, (r) => { range = r; void drawCharts(); }),
    charts,
    h("h2", null, "Protection and relay events"), events,
    h("h2", null, "Downlinks"), downlinks,
    h("div", { class: "panel" }, h("h2", null, "Name and removal"), nameForm(device, async () => {
      device = await api(`/api/devices/${devEui}`);
      heading.textContent = device.name ?? devEui;
      document.title = `${heading.textContent} · 16ASPM console`;
      return device;
    }), removeButton(device)));
  await Promise.all([drawCharts(), drawDownlinks()]);
}

/** @param {string} label @param {Node | string} value @param {string} [figure] */
function card(label, value, figure) {
  return h("div", { class: "card" }, h("div", null, label), h("div", { class: "value", "data-figure": figure }, value));
}

/** @param {string[]} head @param {(Node | string)[][]} rows */
function table(head, rows) {
  return scrollingTable(h("table", null,
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
      n < a.minMinutesDutyCycle ? `below the duty-cycle minimum of ${formatLeastMinutes(a.minMinutesDutyCycle)} at SF${a.spreadingFactor}: the plug would send late` : "",
      n < a.minMinutesFairUse ? `over TTN's fair use of 30 s a day (minimum ${formatLeastMinutes(a.minMinutesFairUse)} at SF${a.spreadingFactor})` : "",
      n < 10 ? "the vendor recommends 10 minutes or more" : "",
    ].filter(Boolean);
    figures.replaceChildren(`Every ${formatNumber(n, "min")}: ${formatNumber(1440 / n, "keep-alives", 0)}, ${formatNumber(perDay, "s")} of airtime a day (${formatNumber(a.keepAliveMs, "ms")} each at SF${a.spreadingFactor}).`,
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

/**
 * The plug's name in the console (PATCH /api/devices/{devEui} {"name"}): a name set here stays when the network
 * server sends another; "Use the network's name" sends null.
 * @param {Device} device @param {() => Promise<Device>} renamed reads the plug again
 */
function nameForm(device, renamed) {
  const name = h("input", { id: "plug-name", name: "name", type: "text", maxlength: 200, value: device.name ?? "", autocomplete: "off" });
  const result = h("p", { role: "status", "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "secondary" }, "Save name");
  const reset = h("button", { type: "button", class: "link", id: "plug-name-reset" }, "Use the network's name");
  /** @param {string | null} value */
  const send = async (value) => {
    save.disabled = reset.disabled = true;
    result.className = "";
    result.textContent = "Saving…";
    try {
      await api(`/api/devices/${device.devEui}`, { method: "PATCH", body: { name: value } });
      device = await renamed();
      name.value = device.name ?? "";
      result.className = "ok";
      result.textContent = value === null ? `Back to the network's name${device.name ? `: ${device.name}` : ""}.` : `Saved: ${device.name}.`;
    } catch (error) {
      result.className = "error";
      result.textContent = `Not saved: ${words(error)}`;
    } finally {
      save.disabled = reset.disabled = false;
    }
  };
  const form = h("form", { class: "toolbar", "aria-label": "Name" }, h("label", { for: "plug-name" }, "Name shown in the console", name), save, reset);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = name.value.trim();
    if (value === "") {
      result.className = "error";
      result.textContent = "Enter a name, or use the network's name.";
      return;
    }
    void send(value);
  });
  reset.addEventListener("click", () => void send(null));
  return h("div", null, form, result);
}

/**
 * Removes the plug from the fleet (DELETE /api/devices/{devEui}), after a confirmation dialog; then the fleet.
 * @param {Device} device
 */
function removeButton(device) {
  const label = device.name ? `${device.name} (${device.devEui})` : device.devEui;
  const result = h("p", { role: "status", "aria-live": "polite" });
  const confirm = h("button", { type: "submit", class: "danger", value: "remove" }, "Remove");
  const erase = h("input", { id: "remove-erase", type: "checkbox" });
  const dialog = h("dialog", { id: "remove-dialog", "aria-labelledby": "remove-title" },
    h("form", { method: "dialog" },
      h("h2", { id: "remove-title" }, `Remove ${label}?`),
      h("p", null, "It leaves the fleet and every list. Its downlinks, keep-alive setting and events (protection trips, relay reports) are deleted. If it sends again, it comes back as a new plug."),
      h("p", null, "Its energy history (readings, hourly and daily totals) and raw uplinks are kept, so past totals stay true, unless you erase them too:"),
      h("label", { class: "inline", for: "remove-erase" }, erase, "Also erase its energy history and raw uplinks"),
      h("div", { class: "toolbar" }, confirm, h("button", { type: "submit", class: "secondary", value: "cancel", autofocus: true }, "Cancel"))));
  const open = h("button", { type: "button", class: "danger-outline", id: "remove-plug" }, "Remove this plug…");
  open.addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "remove") return;
    open.disabled = true;
    result.className = "";
    result.textContent = "Removing…";
    try {
      await api(`/api/devices/${device.devEui}${erase.checked ? "?history=erase" : ""}`, { method: "DELETE" });
      // To the fleet, drawn by app.js's popstate handler.
      history.pushState(null, "", "/");
      window.dispatchEvent(new PopStateEvent("popstate"));
    } catch (error) {
      result.className = "error";
      result.textContent = `Not removed: ${words(error)}`;
      open.disabled = false;
    }
  });
  return h("div", null, h("p", null, open), dialog, result);
}
