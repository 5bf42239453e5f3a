// Keep-alive airtime (keepalive-airtime.md): the TypeScript formula against the spec's worked table, the SQL
// formula of migration 007 against the TypeScript one, and the policy's refusals and warnings.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../webhook/config";
import { keepAliveAirtime, timeOnAirMs } from "../../webhook/keepalive/airtime";
import { judgePeriod, leastAllowedMinutes } from "../../webhook/keepalive/policy";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";

// keepalive-airtime.md, "Worked figures (25-byte keep-alive, 125 kHz, CR 4/5)", as printed (rounded).
const WORKED_TABLE = [
  { sf: 7, ms: 61.7, perDayAt10: 8.9, dutyCycle: 0.10, fairUse: 3.0 },
  { sf: 8, ms: 113.2, perDayAt10: 16.3, dutyCycle: 0.19, fairUse: 5.4 },
  { sf: 9, ms: 205.8, perDayAt10: 29.6, dutyCycle: 0.34, fairUse: 9.9 },
  { sf: 10, ms: 411.6, perDayAt10: 59.3, dutyCycle: 0.69, fairUse: 19.8 },
  { sf: 11, ms: 823.3, perDayAt10: 118.6, dutyCycle: 1.37, fairUse: 39.5 },
  { sf: 12, ms: 1482.8, perDayAt10: 213.5, dutyCycle: 2.47, fairUse: 71.2 },
];

/** |actual − printed| within half a unit of the printed figure's last digit. */
function matchesPrinted(actual: number, printed: number, decimals: number): void {
  expect(Math.abs(actual - printed)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-9);
}

describe("keep-alive airtime", () => {
  it.each(WORKED_TABLE)("SF$sf at 125 kHz matches the worked table", ({ sf, ms, perDayAt10, dutyCycle, fairUse }) => {
    const a = keepAliveAirtime(sf, 125_000, 10);
    matchesPrinted(a.keepAliveMs, ms, 1);
    matchesPrinted(a.secondsPerDay, perDayAt10, 1);
    matchesPrinted(a.minMinutesDutyCycle, dutyCycle, 2);
    matchesPrinted(a.minMinutesFairUse, fairUse, 1);
  });

  it("matches the spec's US915 DR4 figure (SF8 at 500 kHz: 28.3 ms) and its 27-byte frame after a 12 0F response", () => {
    matchesPrinted(timeOnAirMs(25, 8, 500_000), 28.3, 1);
    // Two more bytes: at SF7 (4 symbols per 16 bits after rounding) one more block of 5 symbols.
    expect(timeOnAirMs(27, 7, 125_000)).toBeCloseTo(61.696 + 5 * 1.024, 6);
  });

  it("is seven times TTN's fair use at SF12 on the default 10 minutes (the spec's headline)", () => {
    expect(Math.round(keepAliveAirtime(12, 125_000, 10).secondsPerDay / 30)).toBe(7);
  });

  it("grows with the payload and the spreading factor, and shrinks with the bandwidth", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 250 }), fc.integer({ min: 7, max: 11 }), fc.constantFrom(125_000, 250_000, 500_000),
      (bytes, sf, bw) => {
        expect(timeOnAirMs(bytes + 1, sf, bw)).toBeGreaterThanOrEqual(timeOnAirMs(bytes, sf, bw));
        expect(timeOnAirMs(bytes, sf + 1, bw)).toBeGreaterThan(timeOnAirMs(bytes, sf, bw));
        if (bw < 500_000) expect(timeOnAirMs(bytes, sf, bw * 2)).toBeLessThan(timeOnAirMs(bytes, sf, bw));
      }));
  });
});

describe("airtime policy", () => {
  const sf12 = keepAliveAirtime(12, 125_000, 10);
  const sf7 = keepAliveAirtime(7, 125_000, 10);

  it("duty-cycle refuses below 100 × T and names the least whole period, SF and minimum", () => {
    const verdict = judgePeriod("duty-cycle", 2, sf12);
    expect(verdict.leastAllowedMinutes).toBe(3);
    expect(verdict.refusal).toBe("minutes: 2 is below the least period AIRTIME_POLICY=duty-cycle allows at SF12 at 125 kHz " +
      "(1482.8 ms per keep-alive): 3 min (the 1 % duty cycle); send \"force\": true to set it anyway");
    expect(verdict.warnings).toEqual([
      "2 min is below the 1 % duty-cycle minimum of 2.47 min at SF12 at 125 kHz (1482.8 ms per keep-alive): the plug will send late",
      "2 min uses 1067.6 s of airtime a day at SF12 at 125 kHz (1482.8 ms per keep-alive), over TTN's fair-use 30 s; its minimum is 71.2 min",
    ]);
    // 3 minutes keeps the duty cycle: accepted, with the fair-use warning only.
    const three = judgePeriod("duty-cycle", 3, sf12);
    expect(three.refusal).toBeUndefined();
    expect(three.warnings).toHaveLength(1);
    expect(three.warnings[0]).toContain("over TTN's fair-use 30 s; its minimum is 71.2 min");
  });

  it("ttn-fair-use refuses below 48 × T minutes as well", () => {
    expect(judgePeriod("ttn-fair-use", 71, sf12).refusal).toContain(": 72 min (the duty cycle and TTN's fair-use policy)");
    expect(judgePeriod("ttn-fair-use", 72, sf12)).toEqual({ warnings: [], leastAllowedMinutes: 72 });
    expect(judgePeriod("ttn-fair-use", 3, sf7)).toEqual({ warnings: [], leastAllowedMinutes: 3 });
    expect(judgePeriod("ttn-fair-use", 2, sf7).refusal).toContain("SF7 at 125 kHz (61.7 ms per keep-alive): 3 min");
  });

  it("none refuses nothing but still warns", () => {
    const verdict = judgePeriod("none", 1, sf12);
    expect(verdict.refusal).toBeUndefined();
    expect(verdict.leastAllowedMinutes).toBe(1);
    expect(verdict.warnings).toHaveLength(2);
  });

  it("says the limits were not checked when the spreading factor is unknown", () => {
    expect(judgePeriod("ttn-fair-use", 1, null)).toEqual({
      warnings: ["the plug's spreading factor is not known yet (no uplink with radio metadata): the airtime limits were not checked"],
      leastAllowedMinutes: 1,
    });
    expect(leastAllowedMinutes("duty-cycle", null)).toBe(1);
  });

  it("never refuses a period at or above the least it names", () => {
    fc.assert(fc.property(fc.constantFrom("duty-cycle" as const, "ttn-fair-use" as const, "none" as const), fc.integer({ min: 7, max: 12 }),
      fc.integer({ min: 1, max: 255 }), (policy, sf, minutes) => {
        const airtime = keepAliveAirtime(sf, 125_000, 10);
        const verdict = judgePeriod(policy, minutes, airtime);
        expect(verdict.refusal === undefined).toBe(minutes >= verdict.leastAllowedMinutes);
      }));
  });
});

describe("AIRTIME_POLICY", () => {
  it("defaults to duty-cycle, takes the three policies and refuses anything else by name", () => {
    expect(loadConfig({}).airtimePolicy).toBe("duty-cycle");
    for (const policy of ["duty-cycle", "ttn-fair-use", "none"]) expect(loadConfig({ AIRTIME_POLICY: policy }).airtimePolicy).toBe(policy);
    expect(() => loadConfig({ AIRTIME_POLICY: "fair-use" })).toThrow('AIRTIME_POLICY="fair-use": expected one of duty-cycle, ttn-fair-use, none');
  });
});

describe.each(DATABASES)("airtime in SQL on %s", (_name, factory) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await migratedDatabase(factory);
  });
  afterAll(() => test.drop());

  it("lora_time_on_air_ms equals the TypeScript formula for every spreading factor, bandwidth and length", async () => {
    const cases: [number, number, number][] = [];
    for (const sf of [7, 8, 9, 10, 11, 12]) for (const bw of [125_000, 250_000, 500_000]) for (const bytes of [1, 13, 25, 27, 51, 64, 242]) cases.push([bytes, sf, bw]);
    const { rows } = await test.db.query<{ ms: number }>(
      `SELECT lora_time_on_air_ms(c.bytes, c.sf, c.bw) AS ms FROM jsonb_to_recordset($1::jsonb) AS c(i int, bytes int, sf int, bw int) ORDER BY i`,
      [JSON.stringify(cases.map(([bytes, sf, bw], i) => ({ i, bytes, sf, bw })))]);
    expect(rows).toHaveLength(cases.length);
    rows.forEach((row, i) => expect(row.ms).toBeCloseTo(timeOnAirMs(...cases[i]), 9));
  });
});
