// The incremental rollups (migration 004: in-order readings add to their hour and day) against the exact
// recomputation (002's reading_hour_stats) for every column, not only energy: readings, resets, power,
// voltage, current and temperature statistics and the relay's on-time, under random orders and batches.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnergyRow, energyByDevice, fleetEnergy, type FleetEnergyRow } from "../../webhook/api/energy";
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

// The fleet summary (migration 012) against the rollups it summarises, and the reads built on it against the
// same reads over every plug-hour (the query shape before it), under random deliveries of a few plugs: gaps of
// up to 30 hours, late and repeated uplinks, batches mixing plugs, and plugs moving between applications.
const SUMMARY_VS_ROLLUPS = `
WITH stored AS (
  SELECT application, hour, gap, sum(plugs)::integer AS plugs, sum(energy_wh)::bigint AS energy_wh
  FROM fleet_energy_hourly GROUP BY 1, 2, 3 HAVING sum(plugs) <> 0 OR sum(energy_wh) <> 0
), rows AS (
  SELECT coalesce(d.application, '') AS application, r.hour, r.energy_wh,
    fleet_energy_gap(r.hour, lag(r.hour) OVER (PARTITION BY r.dev_eui ORDER BY r.hour)) AS gap
  FROM readings_hourly r LEFT JOIN devices d USING (dev_eui)
), recomputed AS (
  SELECT application, hour, gap, sum(plugs)::integer AS plugs, sum(energy_wh)::bigint AS energy_wh FROM (
    SELECT application, hour, 0::smallint AS gap, 0 AS plugs, energy_wh FROM rows
    UNION ALL SELECT application, hour, gap, 1, 0 FROM rows
  ) x GROUP BY 1, 2, 3 HAVING sum(plugs) <> 0 OR sum(energy_wh) <> 0
)
SELECT 'stored' AS side, s.* FROM (SELECT * FROM stored EXCEPT SELECT * FROM recomputed) s
UNION ALL
SELECT 'recomputed', r.* FROM (SELECT * FROM recomputed EXCEPT SELECT * FROM stored) r`;

// The reads as they were: every plug-hour of the range, each hour's local day worked out.
const FLEET_BY_PLUG_HOURS = `
WITH h AS (
  SELECT e.dev_eui, date_trunc('day', e.hour, $3) AS period_start, e.energy_wh FROM energy_hourly e JOIN devices d USING (dev_eui)
  WHERE e.hour >= $1 AND e.hour < $2::timestamptz + interval '26 hours' AND d.application = $4
), plug_days AS (
  SELECT dev_eui, period_start, sum(energy_wh)::bigint AS energy_wh FROM h WHERE period_start >= $1 AND period_start < $2 GROUP BY 1, 2
)
SELECT period_start, sum(energy_wh)::bigint AS energy_wh, count(*)::integer AS devices FROM plug_days GROUP BY 1 ORDER BY 1`;
const PLUG_DAYS_BY_PLUG_HOURS = `
SELECT e.dev_eui, date_trunc('day', e.hour, $3) AS period_start, sum(e.energy_wh)::bigint AS energy_wh
FROM energy_hourly e JOIN devices d USING (dev_eui)
WHERE e.hour >= $1 AND e.hour < $2::timestamptz + interval '26 hours' AND d.application = $4
GROUP BY 1, 2 HAVING date_trunc('day', e.hour, $3) >= $1 AND date_trunc('day', e.hour, $3) < $2 ORDER BY 1, 2`;

describe.each(DATABASES)("the fleet summary on %s", (_name, factory) => {
  let test: TestDatabase;
  let db: Database;
  let runs = 0;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    db = test.db;
  });
  afterAll(() => test.drop());

  it("equals the rollups per application, hour and gap, and the fleet and per-plug days equal those over every plug-hour, in any zone", async () => {
    const base = Date.parse("2026-10-20T00:00:00Z"); // the end of European summer time falls inside
    const reading = fc.record({ plug: fc.nat({ max: 2 }), gapMinutes: fc.integer({ min: 1, max: 30 * 60 }), delta: fc.integer({ min: 0, max: 300 }) });
    const scenario = fc.record({
      readings: fc.array(reading, { minLength: 1, maxLength: 40 }),
      late: fc.array(fc.nat(), { maxLength: 5 }),
      repeated: fc.array(fc.nat(), { maxLength: 3 }),
      batch: fc.integer({ min: 1, max: 8 }),
      // After which batch a plug is moved to another application (the next uplink moves it back), if any.
      moved: fc.option(fc.record({ after: fc.nat(), plug: fc.nat({ max: 2 }) })),
    });
    await fc.assert(fc.asyncProperty(scenario, async ({ readings, late, repeated, batch, moved }) => {
      const application = `fleet-${runs++}`;
      const plugs = [newDevice(), newDevice(), newDevice()];
      const clock = [base, base, base];
      const energy = [1000, 1000, 1000];
      const records = readings.map((r) => {
        clock[r.plug] += r.gapMinutes * 60_000;
        energy[r.plug] += r.delta;
        const time = new Date(clock[r.plug]).toISOString();
        return { ...uplinkRecord(plugs[r.plug], time, keepAliveBytes({ time, energyWh: energy[r.plug] })), application };
      });
      const delivered = [...records];
      for (const l of late) delivered.push(...delivered.splice(l % delivered.length, 1));
      for (const r of repeated) delivered.push(records[r % records.length]);
      for (let i = 0, n = 0; i < delivered.length; i += batch, n++) {
        await db.transaction((tx) => writeBatch(tx, delivered.slice(i, i + batch)));
        if (moved && moved.after % Math.ceil(delivered.length / batch) === n) {
          await db.query("UPDATE devices SET application = $2 WHERE dev_eui = $1", [plugs[moved.plug], `${application}-moved`]);
        }
      }
      expect((await db.query(SUMMARY_VS_ROLLUPS)).rows).toEqual([]);

      const to = new Date(Math.max(...clock) + 2 * 86_400_000);
      for (const zone of ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"]) {
        for (const from of [new Date(base), new Date(base + 5 * 3_600_000)]) {
          const q = { period: "day" as const, from, to, timeZone: zone, application };
          const fleet = await fleetEnergy(db, q);
          const expected = (await db.query<FleetEnergyRow>(FLEET_BY_PLUG_HOURS, [from, to, zone, application])).rows;
          expect(fleet.map((r) => ({ ...r, energy_wh: String(r.energy_wh) })), zone).toEqual(expected.map((r) => ({ ...r, energy_wh: String(r.energy_wh) })));
          const perPlug = (await energyByDevice(db, q)).map((r) => ({ dev_eui: r.dev_eui, period_start: r.period_start, energy_wh: String(r.energy_wh) }));
          const byHours = (await db.query<EnergyRow>(PLUG_DAYS_BY_PLUG_HOURS, [from, to, zone, application])).rows;
          expect(perPlug, zone).toEqual(byHours.map((r) => ({ ...r, energy_wh: String(r.energy_wh) })));
        }
      }
      const hours = await fleetEnergy(db, { period: "hour", from: new Date(base), to, application });
      const hourly = (await db.query<{ hour: Date; energy_wh: string; devices: number }>(
        `SELECT e.hour, sum(e.energy_wh)::bigint AS energy_wh, count(*)::integer AS devices FROM energy_hourly e JOIN devices d USING (dev_eui)
         WHERE d.application = $1 GROUP BY 1 ORDER BY 1`, [application])).rows;
      expect(hours.map((r) => [r.period_start, String(r.energy_wh), r.devices])).toEqual(hourly.map((r) => [r.hour, String(r.energy_wh), r.devices]));
    }), { numRuns: 25, endOnFailure: true });
  });

  it("keeps a removed plug's energy in the fleet under no application, and under its own again when it returns", async () => {
    const dev = newDevice();
    const times = Array.from({ length: 30 }, (_, i) => new Date(Date.parse("2026-10-01T00:00:00Z") + i * 3_000_000).toISOString());
    await storeKeepAlives(db, dev, times.map((time, i) => ({ time, energyWh: 10 * i })));
    await db.query("DELETE FROM readings_hourly WHERE dev_eui = $1 AND hour = date_trunc('hour', $2::timestamptz, 'UTC')", [dev, times[10]]);
    expect((await db.query(SUMMARY_VS_ROLLUPS)).rows).toEqual([]);
    const fleetTotal = async () => (await db.query<{ wh: string }>("SELECT sum(energy_wh)::text AS wh FROM fleet_energy_hourly")).rows[0].wh;
    const before = await fleetTotal();
    await db.query("DELETE FROM devices WHERE dev_eui = $1", [dev]);
    expect((await db.query(SUMMARY_VS_ROLLUPS)).rows).toEqual([]);
    expect(await fleetTotal()).toBe(before);
    await db.query("DELETE FROM readings_hourly WHERE dev_eui = $1 AND hour > $2", [dev, times[20]]);
    await db.query("INSERT INTO devices (dev_eui, network, first_seen, application) VALUES ($1, 'ttn', now(), 'back')", [dev]);
    expect((await db.query(SUMMARY_VS_ROLLUPS)).rows).toEqual([]);
  });
});
