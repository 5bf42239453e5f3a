// @ts-check
// Charts drawn with uPlot (from the project's node_modules, served under /assets/vendor), sized to their
// container and redrawn when it changes. Each chart has a caption, a summary in words, and its figures
// in data attributes, so it can be read without seeing it.
import uPlot from "/assets/vendor/uplot/uPlot.esm.js";
import { h, localMidnight } from "./format.js";

const COLORS = ["#0a58ca", "#b42318", "#1a7f37", "#9a6700", "#6f42c1"];

/**
 * @typedef {{ label: string, unit: string, values: (number | null)[], scale?: string }} Series
 * @typedef {{ title: string, times: number[], series: Series[], bars?: boolean, range?: [number, number], summary: string, empty: string }} ChartSpec
 */

/** @param {HTMLElement} plot */
const widthOf = (plot) => Math.max(260, plot.clientWidth || 600);

/**
 * A figure holding one chart, or the `empty` text when there is nothing to draw.
 * @param {ChartSpec} spec  times in seconds since the epoch
 */
export function chart(spec) {
  const plot = h("div", { class: "plot" });
  const figure = h("figure", { class: "chart", "data-chart": spec.title, "data-points": spec.times.length },
    h("figcaption", null, spec.title), plot, h("p", { class: "summary" }, spec.times.length ? spec.summary : spec.empty));
  if (spec.times.length === 0) return figure;
  const scales = [...new Set(spec.series.map((s) => s.scale ?? s.unit))];
  /** @type {uPlot.Options} */
  const options = {
    width: 600,
    height: 240,
    // uPlot shows times in the browser's zone.
    scales: Object.fromEntries([["x", { time: true, ...(spec.range ? { range: spec.range } : {}) }], ...scales.map((s) => [s, { auto: true, range: (/** @type {uPlot} */ _u, /** @type {number} */ min, /** @type {number} */ max) => /** @type {uPlot.Range.MinMax} */ ([Math.min(0, min), max > min ? max * 1.05 : min + 1]) }])]),
    axes: [
      {},
      ...scales.map((scale, i) => ({
        scale,
        label: spec.series.filter((s) => (s.scale ?? s.unit) === scale).map((s) => s.label).join(", ") + ` (${spec.series.find((s) => (s.scale ?? s.unit) === scale)?.unit})`,
        side: i === 0 ? 3 : 1,
        grid: { show: i === 0 },
        size: 60,
      })),
    ],
    series: [
      {},
      ...spec.series.map((s, i) => ({
        label: `${s.label} (${s.unit})`,
        scale: s.scale ?? s.unit,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        ...(spec.bars ? { fill: `${COLORS[i % COLORS.length]}55`, paths: uPlot.paths.bars?.({ size: [0.85, 80], align: 1 }), points: { show: false } } : {}),
        value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => (v === null ? "—" : `${v} ${s.unit}`),
      })),
    ],
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
 * @param {number} [scale] divides each value (1000: kWh)
 */
export function energyBars(points, period, from, to, scale = 1) {
  const byTime = new Map(points.map((p) => [Date.parse(p.time), p.energy_Wh]));
  /** @type {number[]} */
  const times = [];
  /** @type {number[]} */
  const values = [];
  const at = period === "hour" ? new Date(Math.floor(from.getTime() / 3_600_000) * 3_600_000) : localMidnight(from);
  while (at < to) {
    times.push(at.getTime() / 1000);
    values.push((byTime.get(at.getTime()) ?? 0) / scale);
    if (period === "hour") at.setTime(at.getTime() + 3_600_000);
    else at.setDate(at.getDate() + 1);
  }
  return { times, values, range: /** @type {[number, number]} */ ([times[0] ?? from.getTime() / 1000, at.getTime() / 1000]) };
}
