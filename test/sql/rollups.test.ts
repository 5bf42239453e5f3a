// The incremental rollups (migration 004: in-order readings add to their hour and day) against the exact
// recomputation (002's reading_hour_stats) for every column, not only energy: readings, resets, power,
// voltage, current and temperature statistics and the relay's on-time, under random orders and batches.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../webhook/db/database";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { writeBatch } from "../../webhook/store/batch";
import { type KeepAlive, keepAliveBytes, storeKeepAlives, uplinkRecord } from "../support/keepalives";

let devices = 0;
const newDevice = () => `b7b7${(Date.now() % 0xffffffff).toString(16).padStart(8, "0")}${(devices++).toString(16).padStart(4, "0")}`;

// Each stored hour beside the same hour recomputed from the readings; days beside the sum of their hours.
const HOURS_VS_RECOMPUTED = `
SELECT to_jsonb(h) - 'dev_eui' - 'hour' AS stored, to_jsonb(s) AS recomputed
FROM readings_hourly h CROSS JOIN LATERAL reading_hour_stats(h.dev_eui, h.hour) s
WHERE h.dev_eui = $1 ORDER BY h.hour`;
const DAYS_VS_HOURS = `
SELECT to_jsonb(d) - 'dev_eui' - 'day' AS stored, (
  SELECT jsonb_build_object('readings', sum(h.readings), 'energy_wh', sum(h.energy_wh), 'counter_resets', sum(h.counter_resets),
    'relay_on_seconds', sum(h.relay_on_seconds))
  FROM readings_hourly h WHERE h.dev_eui = d.dev_eui AND h.hour >= d.day AND h.hour < d.day + interval '1 day') AS recomputed
FROM readings_daily d WHERE d.dev_eui = $1 ORDER BY d.day`;

describe.each(DATABASES)("incremental rollups on %s", (_name, factory) => {
  let test: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    db = test.db;
  });
  afterAll(() => test.drop());

  async function expectExact(dev: string, readings: number): Promise<void> {
    const hours = (await db.query<{ stored: Record<string, number>; recomputed: Record<string, number> }>(HOURS_VS_RECOMPUTED, [dev])).rows;
    for (const { stored, recomputed } of hours) {
      // Sums of seconds and temperatures are floats: added in another order they may differ in the last bits.
      expect({ ...stored, relay_on_seconds: 0, temperature_sum_c: 0 }).toEqual({ ...recomputed, relay_on_seconds: 0, temperature_sum_c: 0 });
      expect(stored.relay_on_seconds).toBeCloseTo(recomputed.relay_on_seconds, 6);
      expect(stored.temperature_sum_c).toBeCloseTo(recomputed.temperature_sum_c, 6);
    }
    expect(hours.reduce((n, h) => n + h.stored.readings, 0)).toBe(readings);
    for (const { stored, recomputed } of (await db.query<{ stored: Record<string, number>; recomputed: Record<string, number> }>(DAYS_VS_HOURS, [dev])).rows) {
      expect({ ...stored, relay_on_seconds: 0 }).toEqual({ ...recomputed, relay_on_seconds: 0 });
      expect(stored.relay_on_seconds).toBeCloseTo(recomputed.relay_on_seconds, 6);
    }
  }

  /**
   * Random keep-alives of one new plug, mostly in order, some late or repeated, stored in batches by `store`;
   * every column of every hour and day must then equal the recomputation.
   */
  async function expectExactUnderAnyDelivery(store: (dev: string, batch: KeepAlive[]) => Promise<void>): Promise<void> {
    const base = Date.parse("2026-09-01T00:00:00Z");
    const reading = fc.record({
      gapSeconds: fc.integer({ min: 1, max: 7200 }), delta: fc.integer({ min: 0, max: 300 }), reset: fc.integer({ min: 0, max: 9 }).map((n) => n === 0), // a counter reset one time in ten
      powerW: fc.integer({ min: 0, max: 3600 }), voltageV: fc.integer({ min: 180, max: 255 }), currentMa: fc.integer({ min: 0, max: 16000 }),
      temperatureC: fc.integer({ min: -20, max: 80 }), relayOn: fc.boolean(),
    });
    const scenario = fc.record({
      readings: fc.array(reading, { minLength: 1, maxLength: 30 }),
      // Moves some readings later in the delivery (late arrivals) and repeats some (duplicates).
      late: fc.array(fc.nat(), { maxLength: 4 }),
      repeated: fc.array(fc.nat(), { maxLength: 3 }),
      batch: fc.integer({ min: 1, max: 8 }),
    });
    await fc.assert(fc.asyncProperty(scenario, async ({ readings, late, repeated, batch }) => {
      const dev = newDevice();
      let time = base;
      let energy = 1000;
      const keepAlives = readings.map((r) => {
        time += r.gapSeconds * 1000 + 7; // milliseconds off the second: pairs at full precision
        energy = r.reset ? r.delta : energy + r.delta;
        return { time: new Date(time).toISOString(), energyWh: energy, powerW: r.powerW, voltageV: r.voltageV, currentMa: r.currentMa, temperatureC: r.temperatureC, relayOn: r.relayOn };
      });
      const delivered = [...keepAlives];
      for (const l of late) delivered.push(...delivered.splice(l % delivered.length, 1));
      for (const r of repeated) delivered.push(keepAlives[r % keepAlives.length]);
      for (let i = 0; i < delivered.length; i += batch) await store(dev, delivered.slice(i, i + batch));
      await expectExact(dev, keepAlives.length);
    // No shrinking: each try writes to the database, and a failure shrinks through thousands of them.
    }), { numRuns: 30, endOnFailure: true });
  }

  it("every column of every hour and day equals the recomputation, keep-alives mostly in order, some late or repeated", async () => {
    await expectExactUnderAnyDelivery((dev, batch) => storeKeepAlives(db, dev, batch));
  });

  it("the same through rollup_readings, as the README tells those who load readings themselves", async () => {
    await expectExactUnderAnyDelivery((dev, batch) => db.transaction(async (tx) => {
      await tx.query("INSERT INTO devices (dev_eui, network, first_seen) VALUES ($1, 'ttn', now()) ON CONFLICT DO NOTHING", [dev]);
      await tx.query(`WITH inserted AS (
          INSERT INTO readings SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(dev_eui text, time timestamptz, temperature_c real,
            energy_wh bigint, power_w integer, voltage_v integer, current_ma integer, relay_on boolean)
          ON CONFLICT DO NOTHING RETURNING dev_eui, time
        )
        SELECT rollup_readings(jsonb_agg(inserted)) FROM inserted`,
      [JSON.stringify(batch.map((k) => ({ dev_eui: dev, time: k.time, temperature_c: k.temperatureC, energy_wh: k.energyWh,
        power_w: k.powerW, voltage_v: k.voltageV, current_ma: k.currentMa, relay_on: k.relayOn })))]);
    }));
  });

  it("two uplinks of one plug at one time, with different message ids: one reading, counted once", async () => {
    const dev = newDevice();
    const at = (minutes: number) => new Date(Date.parse("2026-09-02T00:55:00Z") + minutes * 60_000).toISOString();
    const keepAlive = (minutes: number, energyWh: number, dedupKey: string) =>
      ({ ...uplinkRecord(dev, at(minutes), keepAliveBytes({ time: at(minutes), energyWh })), dedupKey });
    await storeKeepAlives(db, dev, [{ time: at(0), energyWh: 100 }]);
    await db.transaction((tx) => writeBatch(tx, [keepAlive(10, 150, "first"), keepAlive(10, 170, "second"), keepAlive(20, 200, "third")]));
    await expectExact(dev, 3);
  });
});
