// The console's one rounding helper (webhook/console/public/format.js), in Node's Intl with the en-US and en-GB
// number formats the browser tests use: at most the decimals asked for, a least period in whole minutes, and a
// figure and its unit never split across lines.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// @ts-expect-error a plain ES module of the console, type-checked by webhook/console/tsconfig.json
import { formatEnergy, formatLeastMinutes, formatNumber } from "../../webhook/console/public/format.js";

const format = formatNumber as (value: number | null | undefined, unit: string, digits?: number, fixed?: boolean) => string;

// The helper writes in the default locale (the browser's; here the process's, en-US unless LANG says other):
// its group and decimal signs turned into en-US ones, so these expectations hold under any LANG.
const parts = new Intl.NumberFormat().formatToParts(12345.6);
const group = parts.find((p) => p.type === "group")?.value ?? ",";
const point = parts.find((p) => p.type === "decimal")?.value ?? ".";
const enUs = (text: string) => [...text].map((c) => (c === group ? "," : c === point ? "." : c)).join("");

describe("the console's rounding for people", () => {
  it("writes the figures seen unrounded on the plug page as people read them", () => {
    expect(enUs(formatLeastMinutes(2.471253333333333))).toBe("3\u00a0min");
    expect(enUs(formatLeastMinutes(71.172096))).toBe("72\u00a0min");
    expect(enUs(formatLeastMinutes(10))).toBe("10\u00a0min");
    expect(enUs(format(9.879552, "min"))).toBe("9.9\u00a0min");
    expect(enUs(format(1482.75, "ms"))).toBe("1,482.8\u00a0ms");
    expect(enUs(formatEnergy(20_340.4))).toBe("20.34\u00a0kWh");
    expect(enUs(formatEnergy(1_800))).toBe("1.80\u00a0kWh");
    expect(enUs(formatEnergy(12))).toBe("12\u00a0Wh");
    expect(format(null, "W")).toBe("—");
    expect(format(Number.NaN, "W")).toBe("—");
  });

  it("never writes more decimals than asked, and joins a figure to its unit with a non-breaking space", () => {
    fc.assert(fc.property(fc.double({ min: -1e7, max: 1e7, noNaN: true }), fc.integer({ min: 0, max: 3 }), fc.boolean(), (value, digits, fixed) => {
      const text = enUs(format(value, "W", digits, fixed));
      const [figure, unit] = text.split("\u00a0");
      expect(unit).toBe("W");
      const decimals = figure.includes(".") ? figure.split(".")[1].length : 0;
      expect(decimals).toBeLessThanOrEqual(digits);
      if (fixed) expect(decimals).toBe(digits);
      expect(Math.abs(Number(figure.replace(/,/g, "")) - value)).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-9 * Math.abs(value));
    }));
  });
});
