// @ts-check
// How the console writes numbers and times: times in the browser's zone (stored in UTC), energy in Wh or kWh.

/** The browser's time zone, which the service uses to cut days. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dayName = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const kilo = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** @param {string | null | undefined} iso */
export const formatTime = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");
/** @param {string | Date} day */
export const formatDay = (day) => dayName.format(new Date(day));
/** @param {number | null | undefined} value @param {string} unit */
export const formatNumber = (value, unit) => (value === null || value === undefined ? "—" : `${number.format(value)} ${unit}`);

/** @param {number | null | undefined} wh */
export function formatEnergy(wh) {
  if (wh === null || wh === undefined) return "—";
  return Math.abs(wh) >= 1000 ? `${kilo.format(wh / 1000)} kWh` : `${number.format(wh)} Wh`;
}

/** "5 min ago", "3 h ago", "2 days ago". @param {string | null | undefined} iso */
export function ago(iso) {
  if (!iso) return "never";
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 90) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} days ago`;
}

/** Local midnight `days` days from the day of `at`. @param {Date} at @param {number} days */
export function localMidnight(at, days = 0) {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() + days);
  return d;
}

/** @param {Date} d the value of a datetime-local input, in the browser's zone */
export function toLocalInput(d) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The ranges users pick: the last 24 hours, the last 7 or 30 days (whole local days, ending with today).
 * @param {"24h" | "7d" | "30d"} key
 * @returns {import("../client").Range}
 */
export function presetRange(key, now = new Date()) {
  if (key === "24h") return { key, from: new Date(now.getTime() - 86_400_000), to: now };
  const days = key === "7d" ? 7 : 30;
  return { key, from: localMidnight(now, 1 - days), to: localMidnight(now, 1) };
}

/** Builds an element: h("td", { class: "num" }, "12 W"). Text is always set as text, never as HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | boolean | number | undefined> | null} [attributes]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}
