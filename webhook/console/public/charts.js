// @ts-check
// Charts drawn with uPlot (from the project's node_modules, served under /assets/vendor), sized to their
// container and redrawn when it changes. Each chart has a caption, a summary in words, and its figures
// in data attributes, so it can be read without seeing it.
import uPlot from "/assets/vendor/uplot/uPlot.esm.js";
import { formatClock, formatNumber, formatTime, h, localMidnight } from "./format.js";

const COLORS = ["#0a58ca", "#b42318", "#1a7f37", "#9a6700", "#6f42c1"];
const DAY = 86_400;

/**
 * `zero`: the axis starts at 0 (power, current, energy); else it is fitted to the data (voltage, temperature).
 * `light`: drawn lighter (part days beside whole ones).
 * @typedef {{ label: string, unit: string, values: (number | null)[], scale?: string, zero?: boolean, light?: boolean }} Series
 * `days`: one bar per day, ticks on days only.
 * @typedef {{ title: string, times: number[], series: Series[], bars?: boolean, days?: boolean, range?: [number, number], summary: string, empty: string }} ChartSpec
 */

/** @param {HTMLElement} plot */
const widthOf = (plot) => Math.max(260, plot.clientWidth || 600);

const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const monthYear = new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric" });

/**
 * The time axis's labels in the browser's locale and zone, like the text beside the charts: clock times
 * (with the day under the first and under each midnight), days, or months, by the ticks' spacing.
 * @param {number[]} splits seconds @param {number} increment seconds between ticks
 */
export function timeTicks(splits, increment) {
  if (increment >= 28 * DAY) return splits.map((t) => monthYear.format(t * 1000));
  if (increment >= DAY) return splits.map((t) => dayMonth.format(t * 1000));
  return splits.map((t, i) => {
    const at = new Date(t * 1000);
    const newDay = i === 0 || localMidnight(at).getTime() !== localMidnight(new Date(splits[i - 1] * 1000)).getTime();
    return newDay ? `${formatClock(at)}\n${dayMonth.format(at)}` : formatClock(at);
  });
}

/** "voltage (V)": the series on one axis, part-day series aside unless alone. @param {Series[]} series */
const axisLabel = (series) => {
  const main = series.filter((s) => !s.light);
  return `${(main.length ? main : series).map((s) => s.label).join(", ")} (${series[0].unit})`;
};

/** The decimals a tick step needs (2.5 → 1, 0.25 → 2), at most 3. @param {number} step */
export function decimalsOf(step) {
  const text = String(Number(step.toPrecision(3)));
  const point = text.indexOf(".");
  return point < 0 ? 0 : Math.min(3, text.length - point - 1);
}

/**
 * A y range: from 0 for quantities that start there, else fitted around the data with a margin.
 * @param {boolean} zero @param {number} min @param {number} max
 * @returns {[number, number]}
 */
export function yRange(zero, min, max) {
  if (zero) return [Math.min(0, min), max > min ? max * 1.05 : min + 1];
  const margin = Math.max((max - min) * 0.15, 1);
  return [Math.floor(min - margin), Math.ceil(max + margin)];
}

/**
 * A figure holding one chart, or the `empty` text when there is nothing to draw. Its tick labels and y ranges
 * are kept in data attributes (data-x-ticks, data-y-ranges), so tests and screen readers can read them.
 * @param {ChartSpec} spec  times in seconds since the epoch
 */
export function chart(spec) {
  const plot = h("div", { class: "plot" });
  const figure = h("figure", { class: "chart", "data-chart": spec.title, "data-points": spec.times.length },
    h("figcaption", null, spec.title), plot, h("p", { class: "summary" }, spec.times.length ? spec.summary : spec.empty));
  if (spec.times.length === 0) return figure;
  const scaleOf = (/** @type {Series} */ s) => s.scale ?? s.unit;
  const scales = [...new Set(spec.series.map(scaleOf))];
  const zero = (/** @type {string} */ scale) => spec.series.some((s) => scaleOf(s) === scale && s.zero !== false);
  /** @type {uPlot.Options} */
  const options = {
    width: 600,
    height: 240,
    // uPlot places times in the browser's zone; the labels are written in its locale (timeTicks).
    scales: Object.fromEntries([["x", { time: true, ...(spec.range ? { range: spec.range } : {}) }],
      ...scales.map((s) => [s, { auto: true, range: (/** @type {uPlot} */ _u, /** @type {number} */ min, /** @type {number} */ max) => yRange(zero(s), min, max) }])]),
    axes: [
      {
        space: 64,
        ...(spec.days ? { incrs: [1, 2, 3, 7, 14, 28, 56, 91, 182, 364].map((n) => n * DAY) } : {}),
        values: (/** @type {uPlot} */ _u, /** @type {number[]} */ splits, /** @type {number} */ _axis, /** @type {number} */ _space, /** @type {number} */ increment) => {
          const labels = timeTicks(splits, increment);
          figure.dataset.xTicks = labels.join(" | ");
          return labels;
        },
      },
      ...scales.map((scale, i) => ({
        scale,
        label: axisLabel(spec.series.filter((s) => scaleOf(s) === scale)),
        side: i === 0 ? 3 : 1,
        grid: { show: i === 0 },
        size: 60,
        values: (/** @type {uPlot} */ _u, /** @type {number[]} */ splits, /** @type {number} */ _axis, /** @type {number} */ _space, /** @type {number} */ increment) =>
          splits.map((v) => formatNumber(v, "", decimalsOf(increment))),
      })),
    ],
    series: [
      { value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => (v === null ? "—" : formatTime(new Date(v * 1000).toISOString())) },
      ...spec.series.map((s, i) => {
        const color = s.light ? COLORS[0] : COLORS[i % COLORS.length];
        return {
          label: `${s.label} (${s.unit})`,
          scale: scaleOf(s),
          stroke: color,
          width: 2,
          ...(spec.bars ? { fill: `${color}${s.light ? "22" : "55"}`, dash: s.light ? [4, 3] : undefined, paths: uPlot.paths.bars?.({ size: [0.85, 80], align: 1 }), points: { show: false } } : {}),
          value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => (v === null ? "—" : formatNumber(v, s.unit, 2)),
        };
      }),
    ],
    hooks: {
      draw: [(/** @type {uPlot} */ u) => {
        figure.dataset.yRanges = scales.map((s) => `${s}: ${formatNumber(u.scales[s].min, "", 2)} to ${formatNumber(u.scales[s].max, "", 2)}`).join("; ");
      }],
    },
  };
  // Drawn once the figure is in the page, so the container has its width.
  requestAnimationFrame(() => {
    const u = new uPlot({ ...options, width: widthOf(plot) }, [spec.times, ...spec.series.map((s) => s.values)], plot);
    new ResizeObserver(() => u.setSize({ width: widthOf(plot), height: 240 })).observe(plot);
  });
  return figure;
}

/** @param {string} iso */
export const seconds = (iso) => Date.parse(iso) / 1000;

/**
 * Energy per period over a range, every period present (0 where nothing was recorded), so bars have
 * one width and a quiet day shows as one. Days are the browser's, as asked of the service.
 * @param {import("../client").EnergyPoint[]} points
 * @param {"hour" | "day"} period
 * @param {Date} from
 * @param {Date} to
 */
export function energyBars(points, period, from, to) {
  const byTime = new Map(points.map((p) => [Date.parse(p.time), p.energy_Wh]));
  /** @type {number[]} */
  const times = [];
  /** @type {number[]} */
  const values = [];
  const at = period === "hour" ? new Date(Math.floor(from.getTime() / 3_600_000) * 3_600_000) : localMidnight(from);
  while (at < to) {
    times.push(at.getTime() / 1000);
    values.push(byTime.get(at.getTime()) ?? 0);
    if (period === "hour") at.setTime(at.getTime() + 3_600_000);
    else at.setDate(at.getDate() + 1);
  }
  const { unit, scale } = energyUnit(values);
  return { times, values: values.map((v) => v / scale), unit, range: /** @type {[number, number]} */ ([times[0] ?? from.getTime() / 1000, at.getTime() / 1000]) };
}

/** kWh when a bar reaches 1 kWh, else Wh: an axis of 0.002 kWh steps helps nobody. @param {number[]} wh */
const energyUnit = (wh) => (wh.some((v) => Math.abs(v) >= 1000) ? { unit: "kWh", scale: 1000 } : { unit: "Wh", scale: 1 });

/**
 * Energy per local day over a range, summed from the range's hours (the hourly chart's), so the two charts'
 * totals are one figure. A day the range covers only in part (it starts after the day's midnight or ends
 * before the next) is a part day: its value is in `part`, drawn lighter, and `partDays` says which hours it holds.
 * @param {import("../client").EnergyPoint[]} hours
 * @param {Date} from
 * @param {Date} to
 */
export function daysOfHours(hours, from, to) {
  const { times, range } = energyBars([], "day", from, to);
  /** @type {number[]} */
  const sums = times.map(() => 0);
  const index = new Map(times.map((t, i) => [t, i]));
  for (const p of hours) {
    const i = index.get(localMidnight(new Date(p.time)).getTime() / 1000);
    if (i !== undefined) sums[i] += p.energy_Wh;
  }
  /** @type {{ day: Date, from: Date | null, to: Date | null }[]} */
  const partDays = [];
  const isPart = times.map((t) => {
    const start = new Date(t * 1000), end = localMidnight(start, 1);
    const part = start < from || end > to;
    if (part) partDays.push({ day: start, from: start < from ? from : null, to: end > to ? to : null });
    return part;
  });
  const { unit, scale } = energyUnit(sums);
  return {
    times, range, partDays, unit, total: sums.reduce((s, v) => s + v, 0),
    whole: sums.map((v, i) => (isPart[i] ? null : v / scale)),
    part: sums.map((v, i) => (isPart[i] ? v / scale : null)),
  };
}
