// Migration 010 converts a filled database in place, with the webhook writing into it throughout: every
// row kept (the old ones unchanged, each new one stored once), every view reading the partitioned tables,
// and no write failing. On PostgreSQL with a million uplinks and a million readings; on PGlite smaller,
// for correctness. Prints the longest write while the migration ran (the locks it waited for).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { writeBatch } from "../../webhook/store/batch";
import { DATABASES, type TestDatabase } from "../support/databases";
import { keepAliveBytes, uplinkRecord } from "../support/keepalives";

const PLUGS = 1000;

/** A checksum of the rows that were there before, per table. */
const OLD_ROWS = `SELECT
  (SELECT json_build_object('n', count(*), 'sum', sum(hashtext(dev_eui || received_at || dedup_key || f_cnt || encode(payload, 'hex'))::bigint))
   FROM uplinks WHERE dedup_key LIKE 'old:%') AS uplinks,
  (SELECT json_build_object('n', count(*), 'sum', sum(hashtext(dev_eui || time || energy_wh || power_w)::bigint)) FROM readings WHERE time < $1) AS readings,
  (SELECT json_build_object('n', count(*), 'sum', sum(hashtext(dev_eui || time || kind || data::text)::bigint)) FROM device_events) AS events`;

describe.each(DATABASES)("converting a filled database to partitions on %s", (name, factory) => {
  const rows = name === "PostgreSQL" ? 1_000_000 : 20_000;
  let test: TestDatabase;
  let db: Database;
  /** Before every reading the test writes. */
  const start = new Date(Date.now() - 1000 * 60_000).toISOString();

  beforeAll(async () => {
    test = await factory();
    db = test.db;
    await migrate(db, "009");
    await db.query(`INSERT INTO devices (dev_eui, name, network, first_seen) SELECT 'd0' || lpad(to_hex(d), 14, '0'), 'plug-' || d, 'ttn', '2026-01-01'
      FROM generate_series(1, ${PLUGS}) d`);
    // A plug's keep-alives back from `start`, every 10 minutes, the fleet interleaved as it sends them.
    const series = `FROM generate_series(0, ${rows - 1}) i CROSS JOIN LATERAL (SELECT 'd0' || lpad(to_hex(1 + i % ${PLUGS}), 14, '0') AS dev,
      $1::timestamptz - (i / ${PLUGS} + 1) * interval '10 minutes' - (i % ${PLUGS}) * interval '1 second' AS t) x`;
    await db.query(`INSERT INTO uplinks (dev_eui, received_at, dedup_key, network, f_cnt, f_port, payload, rssi, snr, spreading_factor, bandwidth_hz)
      SELECT dev, t, 'old:' || i, 'ttn', i / ${PLUGS}, 2, '\\x011c034a241805d9e7195201'::bytea, -97.5, 7.25, 7 + i % 3, 125000 ${series}`, [start]);
    await db.query(`INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
      SELECT dev, t, 25, 1000000 + i, i % 3000, 230, 450, true ${series}`, [start]);
    await db.query(`INSERT INTO device_events (dev_eui, time, kind, data, network, dedup_key)
      SELECT dev, t, k, jsonb_build_object(k, CASE k WHEN 'relayState' THEN '"OFF"'::jsonb ELSE '{"events": 3, "temperature": 71}'::jsonb END), 'ttn', 'old:' || i
      ${series} CROSS JOIN LATERAL (SELECT CASE WHEN (i / 100) % 2 = 0 THEN 'relayState' ELSE 'overheatingEvents' END AS k) e WHERE i % 100 = 0`, [start]);
    await db.query("ANALYZE");
  }, 600_000);
  afterAll(() => test.drop());

  it("keeps every row and every view, and no write fails while it runs", async () => {
    const before = (await db.query(OLD_ROWS, [start])).rows[0];
    // The webhook writing keep-alives of every plug, a batch of 25 at a time: before the migration, throughout
    // it (PostgreSQL: PGlite is one connection, and the service writes to it only once migrated), and after.
    let sent = 0;
    let round = 0;
    const latencies: number[] = [];
    let migrating = false;
    let longestDuringMigration = 0;
    const writeOne = async () => {
      const time = new Date(Date.now() - 60_000 + round++).toISOString();
      const records = Array.from({ length: 25 }, (_, i) => {
        const dev = `d0${(1 + ((round * 25 + i) % PLUGS)).toString(16).padStart(14, "0")}`;
        return uplinkRecord(dev, time, keepAliveBytes({ time, energyWh: 5_000_000 + round }), round);
      });
      const began = performance.now();
      const result = await db.transaction((tx) => writeBatch(tx, records));
      const took = performance.now() - began;
      latencies.push(took);
      if (migrating) longestDuringMigration = Math.max(longestDuringMigration, took);
      expect(result.outcomes.every((o) => o === "stored")).toBe(true);
      sent += records.length;
    };
    while (sent < 200) await writeOne();
    let writing = name === "PostgreSQL";
    const during = (async () => {
      while (writing) await writeOne();
    })();
    migrating = true;
    const began = performance.now();
    const applied = await migrate(db).finally(() => {
      writing = false;
    });
    const migrationMs = performance.now() - began;
    await during;
    migrating = false;
    const writtenDuring = latencies.length - 8;
    const target = sent + 200;
    while (sent < target) await writeOne();
    console.log(`${name}: ${rows.toLocaleString("en")} uplinks and readings converted in ${(migrationMs / 1000).toFixed(1)} s (${applied.join(", ")}); `
      + `${writtenDuring} batches written during it, the longest ${longestDuringMigration.toFixed(0)} ms`);

    for (const table of ["uplinks", "readings", "device_events"]) {
      const { rows: [kind] } = await db.query<{ relkind: string }>("SELECT relkind FROM pg_class WHERE oid = $1::regclass", [table]);
      expect(kind.relkind).toBe("p");
    }
    expect((await db.query(OLD_ROWS, [start])).rows[0]).toEqual(before);
    const { rows: [written] } = await db.query<{ uplinks: number; readings: number }>(
      `SELECT (SELECT count(*)::int FROM uplinks WHERE dedup_key NOT LIKE 'old:%') AS uplinks, (SELECT count(*)::int FROM readings WHERE time >= $1) AS readings`, [start]);
    expect(written).toEqual({ uplinks: sent, readings: sent });

    // The views read the partitioned tables: old rows and new ones.
    const { rows: [views] } = await db.query(`SELECT
      (SELECT count(*)::int FROM device_keepalive WHERE spreading_factor IS NOT NULL) AS keepalive,
      (SELECT count(*)::int FROM protection_events WHERE protection = 'overheating' AND value = 71) AS protection,
      (SELECT count(*)::int FROM relay_events WHERE relay_on = false) AS relay,
      (SELECT count(*)::int FROM device_status WHERE energy_wh >= 5000000) AS status`);
    const events = Math.ceil(rows / 100);
    expect(views).toEqual({ keepalive: PLUGS, protection: Math.floor(events / 2), relay: Math.ceil(events / 2), status: Math.min(PLUGS, sent) });
  }, 900_000);
});
