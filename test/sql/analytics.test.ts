// The SQL layer dashboards read (migrations/002): energy from the cumulative counter, the rollups behind
// it, power statistics, device status and events, fed through the webhook's own batch writer.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../webhook/db/database";
import { writeBatch } from "../../webhook/store/batch";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { hex } from "../support/hex";
import { type KeepAlive, keepAliveBytes, storeKeepAlives, uplinkRecord } from "../support/keepalives";

let devices = 0;
/** A device of its own for every test and property run. */
function newDevice(): string {
  return `a5a5${(Date.now() % 0xffffffff).toString(16).padStart(8, "0")}${(devices++).toString(16).padStart(4, "0")}`;
}

const at = (iso: string, energyWh: number, extra: Partial<KeepAlive> = {}): KeepAlive => ({ time: iso, energyWh, ...extra });

/** The contract's rule over a device's readings, in plain code: the reference every SQL result must equal. */
function referenceEnergy(readings: { time: string; energyWh: number }[], period: "hour" | "day"): Map<string, number> {
  const sorted = [...readings].sort((a, b) => a.time.localeCompare(b.time));
  const energy = new Map<string, number>();
  sorted.forEach((r, i) => {
    const key = r.time.slice(0, period === "hour" ? 13 : 10);
    const prev = sorted[i - 1]?.energyWh;
    const consumption = prev === undefined ? 0 : r.energyWh >= prev ? r.energyWh - prev : r.energyWh;
    energy.set(key, (energy.get(key) ?? 0) + consumption);
  });
  return energy;
}

// The same rule over the raw readings table with a window function: what the rollups must equal.
const RAW_ENERGY = `
WITH pairs AS (
  SELECT time, energy_wh, lag(energy_wh) OVER (ORDER BY time) AS prev FROM readings WHERE dev_eui = $1
)
SELECT to_char(date_trunc($2, time, 'UTC') AT TIME ZONE 'UTC', $3) AS period,
  sum(CASE WHEN prev IS NULL THEN 0 WHEN energy_wh >= prev THEN energy_wh - prev ELSE energy_wh END)::float8 AS energy_wh
FROM pairs GROUP BY 1 ORDER BY 1`;

describe.each(DATABASES)("SQL analytics on %s", (_name, factory) => {
  let test: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    db = test.db;
  });
  afterAll(() => test.drop());

  const rows = async <R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.query<R>(sql, params)).rows;

  /** energy_hourly or energy_daily of a device as {"2026-11-01T10": Wh} / {"2026-11-01": Wh}. */
  async function rollup(devEui: string, period: "hour" | "day"): Promise<Map<string, number>> {
    const format = period === "hour" ? `YYYY-MM-DD"T"HH24` : "YYYY-MM-DD";
    const view = period === "hour" ? "energy_hourly" : "energy_daily";
    const result = await rows<{ period: string; energy_wh: number }>(
      `SELECT to_char(${period} AT TIME ZONE 'UTC', $2) AS period, energy_wh::float8 AS energy_wh FROM ${view} WHERE dev_eui = $1 ORDER BY 1`,
      [devEui, format]);
    return new Map(result.map((r) => [r.period, r.energy_wh]));
  }

  async function raw(devEui: string, period: "hour" | "day"): Promise<Map<string, number>> {
    const format = period === "hour" ? `YYYY-MM-DD"T"HH24` : "YYYY-MM-DD";
    const result = await rows<{ period: string; energy_wh: number }>(RAW_ENERGY, [devEui, period, format]);
    return new Map(result.map((r) => [r.period, r.energy_wh]));
  }

  it("energy per hour and day: a gap, a counter reset, a duplicate, a late uplink and a day boundary", async () => {
    const dev = newDevice();
    await storeKeepAlives(db, dev, [
      at("2026-11-01T10:00:00Z", 1000), // first reading: nothing before it, counts 0
      at("2026-11-01T10:10:00Z", 1010),
      at("2026-11-01T10:20:00Z", 1030),
      at("2026-11-01T10:50:00Z", 1040), // 10:30 and 10:40 lost for now
    ]);
    await storeKeepAlives(db, dev, [
      at("2026-11-01T11:00:00Z", 1050),
      at("2026-11-01T11:10:00Z", 5), // cleared: the new value is the consumption
      at("2026-11-01T11:20:00Z", 25),
      at("2026-11-01T11:20:00Z", 25), // the same uplink twice
    ]);
    await storeKeepAlives(db, dev, [at("2026-11-01T11:20:00Z", 25)]); // and a third time, later
    await storeKeepAlives(db, dev, [at("2026-11-01T10:30:00Z", 1035)]); // late: lands between 10:20 and 10:50
    await storeKeepAlives(db, dev, [at("2026-11-01T23:50:00Z", 10), at("2026-11-02T00:10:00Z", 40)]); // reset over a gap

    expect(await rollup(dev, "hour")).toEqual(new Map([
      ["2026-11-01T10", 10 + 20 + 5 + 5], ["2026-11-01T11", 10 + 5 + 20], ["2026-11-01T23", 10], ["2026-11-02T00", 30],
    ]));
    expect(await rollup(dev, "day")).toEqual(new Map([["2026-11-01", 85], ["2026-11-02", 30]]));
    const [hour11] = await rows(`SELECT readings, counter_resets FROM energy_hourly WHERE dev_eui = $1 AND hour = '2026-11-01T11:00Z'`, [dev]);
    expect(hour11).toEqual({ readings: 3, counter_resets: 1 });
    const [day] = await rows(`SELECT readings, counter_resets FROM energy_daily WHERE dev_eui = $1 AND day = '2026-11-01T00:00Z'`, [dev]);
    expect(day).toEqual({ readings: 9, counter_resets: 2 });
  });

  it("rollups equal the raw computation whatever the order, batching and duplicates of the uplinks", async () => {
    const base = Date.parse("2026-10-01T00:00:00Z");
    const scenario = fc.record({
      points: fc.uniqueArray(
        fc.record({ minute: fc.integer({ min: 0, max: 3 * 1440 - 1 }), delta: fc.integer({ min: 0, max: 5000 }), reset: fc.boolean() }),
        { selector: (p) => p.minute, minLength: 1, maxLength: 40 }),
      order: fc.array(fc.nat(), { minLength: 80, maxLength: 80 }),
      duplicates: fc.array(fc.nat(), { maxLength: 5 }),
      batch: fc.integer({ min: 1, max: 12 }),
    });
    await fc.assert(fc.asyncProperty(scenario, async ({ points, order, duplicates, batch }) => {
      const dev = newDevice();
      let energy = 0;
      // Microseconds in the times: the rollup must find the next reading at full precision.
      const readings = [...points].sort((a, b) => a.minute - b.minute).map((p) => {
        energy = p.reset ? p.delta : energy + p.delta;
        return at(new Date(base + p.minute * 60_000 + 123).toISOString().replace("Z", "456Z"), energy);
      });
      const delivered = readings.map((r, i) => ({ r, key: order[i % order.length] * 100 + i }))
        .sort((a, b) => a.key - b.key).map((x) => x.r);
      for (const d of duplicates) delivered.push(readings[d % readings.length]);
      for (let i = 0; i < delivered.length; i += batch) await storeKeepAlives(db, dev, delivered.slice(i, i + batch));

      for (const period of ["hour", "day"] as const) {
        const expected = referenceEnergy(readings, period);
        expect(await rollup(dev, period)).toEqual(expected);
        expect(await raw(dev, period)).toEqual(expected);
      }
    }), { numRuns: 25 });
  });

  it("power, voltage, current and temperature per hour, and the relay's on-time", async () => {
    const dev = newDevice();
    await storeKeepAlives(db, dev, [
      at("2026-11-03T11:50:00Z", 0, { powerW: 50, relayOn: true }),
      at("2026-11-03T12:00:00Z", 10, { powerW: 100, voltageV: 230, currentMa: 450, temperatureC: 30, relayOn: true }),
      at("2026-11-03T12:10:00Z", 20, { powerW: 200, voltageV: 234, currentMa: 900, temperatureC: 32, relayOn: true }),
      at("2026-11-03T12:20:00Z", 30, { powerW: 0, voltageV: 226, currentMa: 0, temperatureC: -4, relayOn: false }),
      at("2026-11-03T12:30:00Z", 30, { powerW: 0, voltageV: 230, currentMa: 0, temperatureC: 26, relayOn: false }),
    ]);
    const [hour] = await rows(`SELECT readings, power_avg_w, power_max_w, voltage_avg_v, voltage_min_v, voltage_max_v,
      current_avg_ma, current_max_ma, temperature_avg_c, temperature_max_c, relay_on_seconds
      FROM power_hourly WHERE dev_eui = $1 AND hour = '2026-11-03T12:00Z'`, [dev]);
    expect(hour).toEqual({
      readings: 4, power_avg_w: 75, power_max_w: 200, voltage_avg_v: 230, voltage_min_v: 226, voltage_max_v: 234,
      current_avg_ma: 337.5, current_max_ma: 900, temperature_avg_c: 21, temperature_max_c: 32,
      // 11:50→12:00, 12:00→12:10 and 12:10→12:20 began ON; 12:20→12:30 began OFF.
      relay_on_seconds: 1800,
    });
    const [day] = await rows(`SELECT relay_on_seconds FROM readings_daily WHERE dev_eui = $1`, [dev]);
    expect(day).toEqual({ relay_on_seconds: 1800 });
  });

  it("device status: online until 2.5 keep-alive periods have passed, at the reported period or else 10 minutes", async () => {
    const plain = newDevice();
    const slow = newDevice();
    await storeKeepAlives(db, plain, [at("2026-11-04T09:50:00Z", 1), at("2026-11-04T10:00:00Z", 2)]);
    // A keep-alive period response (12 3C: 60 minutes) in front of the keep-alive.
    const payload = new Uint8Array([...hex("123C"), ...keepAliveBytes(at("", 7))]);
    await db.transaction((tx) => writeBatch(tx, [uplinkRecord(slow, "2026-11-04T10:00:00Z", payload)]));

    const status = async (dev: string, when: string) => (await rows(`SELECT keepalive_minutes, online, offline_since,
      keepalives_24h, keepalives_expected_24h::float8 AS expected, bytes_per_day_expected::float8 AS bytes, energy_wh::int AS energy_wh
      FROM device_status_at($2) WHERE dev_eui = $1`, [dev, when]))[0];

    expect(await status(plain, "2026-11-04T10:25:00Z")).toEqual({
      keepalive_minutes: 10, online: true, offline_since: null, keepalives_24h: 2, expected: 144, bytes: 3600, energy_wh: 2,
    });
    expect(await status(plain, "2026-11-04T10:25:00.001Z")).toMatchObject({ online: false, offline_since: new Date("2026-11-04T10:25:00Z") });
    expect(await status(plain, "2026-11-05T09:00:00Z")).toMatchObject({ online: false, keepalives_24h: 1 });
    expect(await status(plain, "2026-11-05T10:00:00Z")).toMatchObject({ keepalives_24h: 0 });

    expect(await status(slow, "2026-11-04T12:30:00Z")).toMatchObject({ keepalive_minutes: 60, online: true, expected: 24, bytes: 600, energy_wh: 7 });
    expect(await status(slow, "2026-11-04T12:30:00.001Z")).toMatchObject({ online: false });

    const [now] = await rows(`SELECT online, keepalive_minutes FROM device_status WHERE dev_eui = $1`, [plain]);
    expect(now).toEqual({ online: false, keepalive_minutes: 10 });
    const [kept] = await rows(`SELECT keepalives_received, keepalives_expected::float8 AS expected, bytes_received, bytes_expected::float8 AS bytes
      FROM keepalive_daily WHERE dev_eui = $1`, [slow]);
    expect(kept).toEqual({ keepalives_received: 1, expected: 24, bytes_received: 25, bytes: 600 });
  });

  it("a device that just sent a keep-alive is online in device_status", async () => {
    const dev = newDevice();
    await storeKeepAlives(db, dev, [at(new Date(Date.now() - 60_000).toISOString(), 42)]);
    const [status] = await rows(`SELECT online, keepalives_24h, energy_wh::int AS energy_wh FROM device_status WHERE dev_eui = $1`, [dev]);
    expect(status).toEqual({ online: true, keepalives_24h: 1, energy_wh: 42 });
  });

  it("protection trips and recoveries, manual and reported relay switching", async () => {
    const dev = newDevice();
    const keepAlive = [...keepAliveBytes(at("", 1))];
    const uplink = (time: string, messages: string, withKeepAlive = true) =>
      uplinkRecord(dev, time, new Uint8Array([...hex(messages), ...(withKeepAlive ? keepAlive : [])]));
    await db.transaction((tx) => writeBatch(tx, [
      uplink("2026-11-05T08:00:00Z", "60053C"),
      uplink("2026-11-05T08:01:00Z", "70002A"),
      uplink("2026-11-05T08:02:00Z", "6203195262031952", false),
      uplink("2026-11-05T08:03:00Z", "72BE", false),
      uplink("2026-11-05T08:04:00Z", "5D00"),
      uplink("2026-11-05T08:05:00Z", "B101", false),
    ]));
    const protection = await rows(`SELECT to_char(time AT TIME ZONE 'UTC', 'HH24:MI') AS t, protection, phase, event_count, value, unit
      FROM protection_events WHERE dev_eui = $1 ORDER BY time, kind`, [dev]);
    expect(protection).toEqual([
      { t: "08:00", protection: "overheating", phase: "trip", event_count: 5, value: 60, unit: "°C" },
      { t: "08:01", protection: "overheating", phase: "recovery", event_count: null, value: 42, unit: "s" },
      // Two identical responses in one uplink are two events.
      { t: "08:02", protection: "overcurrent", phase: "trip", event_count: 3, value: 6482, unit: "mA" },
      { t: "08:02", protection: "overcurrent", phase: "trip", event_count: 3, value: 6482, unit: "mA" },
      { t: "08:03", protection: "overcurrent", phase: "recovery", event_count: null, value: -62, unit: "°C" },
    ]);
    const relay = await rows(`SELECT to_char(time AT TIME ZONE 'UTC', 'HH24:MI') AS t, source, relay_on FROM relay_events WHERE dev_eui = $1 ORDER BY time`, [dev]);
    expect(relay).toEqual([{ t: "08:04", source: "manual", relay_on: false }, { t: "08:05", source: "reported", relay_on: true }]);
  });

  it("relay changes between keep-alives are relay events, unless a 5D or B1 of the same uplink names them", async () => {
    const dev = newDevice();
    const state = (time: string, relayOn: boolean, messages = "") =>
      uplinkRecord(dev, time, new Uint8Array([...hex(messages), ...keepAliveBytes(at(time, 1, { relayOn }))]));
    // Stored out of order, and with a gap of two days before the last keep-alive (the look-back beyond a day).
    await db.transaction((tx) => writeBatch(tx, [
      state("2026-11-06T08:20:00Z", true),
      state("2026-11-06T08:00:00Z", true),
      state("2026-11-06T08:10:00Z", false),
      state("2026-11-06T08:30:00Z", true),
      state("2026-11-06T08:40:00Z", false, "5D00"),
      state("2026-11-08T09:00:00Z", true),
    ]));
    const relay = await rows(`SELECT to_char(time AT TIME ZONE 'UTC', 'DD HH24:MI') AS t, source, relay_on FROM relay_events WHERE dev_eui = $1 ORDER BY time`, [dev]);
    expect(relay).toEqual([
      { t: "06 08:10", source: "keepalive", relay_on: false },
      { t: "06 08:20", source: "keepalive", relay_on: true },
      { t: "06 08:40", source: "manual", relay_on: false },
      { t: "08 09:00", source: "keepalive", relay_on: true },
    ]);
    // A range asks only for its own keep-alives, and still sees the change from the one before it.
    const inRange = await rows(`SELECT to_char(time AT TIME ZONE 'UTC', 'DD HH24:MI') AS t FROM relay_events
      WHERE dev_eui = $1 AND time >= '2026-11-06T08:20:00Z' AND time < '2026-11-06T08:35:00Z'`, [dev]);
    expect(inRange).toEqual([{ t: "06 08:20" }]);
  });
});
