// @ts-check
// How the console writes numbers and times: times in the browser's zone (stored in UTC), energy in Wh or kWh.

/** The browser's time zone, which the service uses to cut days. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dayName = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
/** @type {Map<number, Intl.NumberFormat>} */
const numbers = new Map();
/** A non-breaking space: a figure and its unit stay on one line. */
const NBSP = "\u00a0";

/** @param {string | null | undefined} iso */
export const formatTime = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");
/** @param {string | Date} day */
export const formatDay = (day) => dayName.format(new Date(day));
/** "09:00" (en-GB), "9:00 AM" (en-US). @param {Date | number} at */
export const formatClock = (at) => clock.format(at);

/**
 * The one rounding of numbers for people: the browser's locale, at most `digits` decimals (1 unless said),
 * the unit after a non-breaking space (`fixed`: always `digits` decimals). Every figure the console writes goes
 * through it.
 * @param {number | null | undefined} value @param {string} unit @param {number} [digits] @param {boolean} [fixed]
 */
export function formatNumber(value, unit, digits = 1, fixed = false) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const key = fixed ? -1 - digits : digits;
  let format = numbers.get(key);
  if (!format) numbers.set(key, (format = new Intl.NumberFormat(undefined, { minimumFractionDigits: fixed ? digits : 0, maximumFractionDigits: digits })));
  const text = format.format(value);
  return unit ? `${text}${NBSP}${unit}` : text;
}

/** A least period in whole minutes (periods are whole minutes): 2.47 → "3 min". @param {number} minutes */
export const formatLeastMinutes = (minutes) => formatNumber(Math.ceil(minutes), "min");

/** @param {number | null | undefined} wh */
export function formatEnergy(wh) {
  if (wh === null || wh === undefined) return "—";
  return Math.abs(wh) >= 1000 ? formatNumber(wh / 1000, "kWh", 2, true) : formatNumber(wh, "Wh");
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

const HOUR = 3_600_000;
/** The start of the (UTC) hour of `at`, in ms: energy is counted in these hours. @param {Date | number} at */
export const startOfHour = (at) => Math.floor(new Date(at).getTime() / HOUR) * HOUR;

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
  // 24 whole hours, the current one (so far) the last: the hours energy is counted in.
  if (key === "24h") return { key, from: new Date(startOfHour(now) - 23 * HOUR), to: new Date(startOfHour(now) + HOUR) };
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

/**
 * A table in a box that scrolls sideways when the screen is narrower than it, with a hint above it while
 * columns are out of view (a phone shows no scroll bar until touched).
 * @param {HTMLTableElement} table
 */
export function scrollingTable(table) {
  const hint = h("p", { class: "hint scroll-hint", hidden: true }, "More columns to the right: swipe the table sideways →");
  const wrap = h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `${table.getAttribute("aria-label") ?? "Table"}, scrolling` }, table);
  const check = () => { hint.hidden = wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1; };
  new ResizeObserver(check).observe(wrap);
  wrap.addEventListener("scroll", check, { passive: true });
  return h("div", null, hint, wrap);
}
