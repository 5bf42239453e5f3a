// uplinks' compact key (migration 017): unique on (device_key(dev_eui), received_at, hash of dedup_key), read
// per plug through plug_uplinks. Dedup never merges two uplinks and keeps a retry once, the fallback key of an
// uplink without a message id included; a populated database converts with its big partitions' index left to
// the maintenance pass, every row and view kept, and retries of rows stored before the migration still found.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { maintainPartitions, type Retention, weekStart } from "../../webhook/db/partitions";
import type { UplinkRecord } from "../../webhook/ingest/records";
import { writeBatch } from "../../webhook/store/batch";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { keepAliveBytes, uplinkRecord } from "../support/keepalives";

const KEEP: Retention = { uplinksDays: 0, readingsDays: 0, eventsDays: 0 };
const PAYLOAD = keepAliveBytes({ time: "", energyWh: 1234 });

function record(devEui: string, time: string, dedupKey: string, fCnt = 7): UplinkRecord {
  return { ...uplinkRecord(devEui, time, PAYLOAD, fCnt), dedupKey };
}

async function write(db: Database, records: UplinkRecord[]) {
  return (await db.transaction((tx) => writeBatch(tx, records))).outcomes;
}

async function stored(db: Database, devEui: string): Promise<{ key: string; at: string }[]> {
  const { rows } = await db.query<{ key: string; at: Date }>("SELECT dedup_key AS key, received_at AS at FROM uplinks WHERE dev_eui = $1 ORDER BY 2, 1", [devEui]);
  return rows.map((r) => ({ key: r.key, at: r.at.toISOString() }));
}

describe.each(DATABASES)("uplinks' compact key on %s", (_name, factory) => {
  let test: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    db = test.db;
    await maintainPartitions(db, KEEP);
  });
  afterAll(() => test.drop());

  it("keeps two uplinks of one time with different message ids, and a retry once", async () => {
    const time = new Date().toISOString();
    const a = record("e1e1000000000001", time, "tts:as:up:01AAAAAAAAAAAAAAAAAAAAAAAA");
    const b = record("e1e1000000000001", time, "tts:as:up:01BBBBBBBBBBBBBBBBBBBBBBBB");
    expect(await write(db, [a, b])).toEqual(["stored", "stored"]);
    expect(await write(db, [b, a])).toEqual(["duplicate", "duplicate"]);
    // Another plug at the same time, its own message: a row of its own.
    expect(await write(db, [record("e1e1000000000002", time, "chirpstack:3f1c1a8e-2b4d-4c5e-9f60-718293a4b5c6")])).toEqual(["stored"]);
    expect(await stored(db, "e1e1000000000001")).toHaveLength(2);
  });

  it("keeps two plugs' uplinks without a message id of one time, counter and payload apart, and each one's retry once", async () => {
    const time = new Date(Date.now() - 60_000).toISOString();
    const key = `fcnt:7:${Buffer.from(PAYLOAD).toString("hex")}`;
    expect(await write(db, [record("e1e1000000000003", time, key), record("e1e1000000000004", time, key)])).toEqual(["stored", "stored"]);
    expect(await write(db, [record("e1e1000000000004", time, key)])).toEqual(["duplicate"]);
    expect(await write(db, [record("e1e1000000000003", time, key)])).toEqual(["duplicate"]);
    expect(await stored(db, "e1e1000000000003")).toEqual([{ key, at: time }]);
    expect(await stored(db, "e1e1000000000004")).toHaveLength(1);
  });

  it("makes a week's partition with its columns by alignment, and rows moved into it from the default partition keep every column", async () => {
    // A reading six weeks ahead goes to readings_default; the next pass makes its week and moves it in.
    const time = new Date(weekStart(new Date()).getTime() + 6 * 7 * 86_400_000 + 3_600_000).toISOString();
    const row = ["e1e1000000000009", time, 21.5, 123456789, 1500, 231, 6500, true];
    await db.query(`INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, row);
    const done = await maintainPartitions(db, KEEP);
    expect(done.some((d) => /^created readings_p\d{8}, moving 1 rows into it from readings_default$/.test(d))).toBe(true);
    const { rows: [r] } = await db.query("SELECT tableoid::regclass::text AS part, * FROM readings WHERE dev_eui = $1", [row[0]]);
    expect(r.part).toMatch(/^readings_p\d{8}$/);
    expect({ ...r, part: undefined, time: (r.time as Date).toISOString(), energy_wh: Number(r.energy_wh) }).toEqual({ part: undefined,
      dev_eui: row[0], time, temperature_c: 21.5, energy_wh: 123456789, power_w: 1500, voltage_v: 231, current_ma: 6500, relay_on: true });
    const { rows: columns } = await db.query<{ attname: string }>(
      "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [r.part]);
    expect(columns.map((c) => c.attname)).toEqual(["time", "energy_wh", "temperature_c", "power_w", "voltage_v", "current_ma", "relay_on", "dev_eui"]);
  });

  it("reads a plug's uplinks by its own key: device_keepalive's radio, the airtime of its day", async () => {
    const plug = "e1e1000000000005";
    const base = Date.now() - 3_600_000;
    const records = Array.from({ length: 12 }, (_, i) => ({
      ...record(plug, new Date(base + i * 60_000).toISOString(), `tts:as:up:01K${String(i).padStart(23, "0")}`, i),
      spreadingFactor: i === 11 ? 7 : i === 5 ? 12 : 9,
    }));
    expect((await write(db, records)).every((o) => o === "stored")).toBe(true);
    // The slowest of its last 10 (SF12 at the sixth), not its first two.
    const { rows: [k] } = await db.query<{ spreading_factor: number }>("SELECT spreading_factor FROM device_keepalive WHERE dev_eui = $1", [plug]);
    expect(k.spreading_factor).toBe(12);
    const { rows: [a] } = await db.query<{ s: number; n: number }>(
      "SELECT uplink_airtime_seconds($1, now() - interval '24 hours', now()) AS s, (SELECT count(*)::int FROM plug_uplinks($1)) AS n", [plug]);
    expect(a.n).toBe(12);
    expect(a.s).toBeGreaterThan(0);
  });
});

describe.each(DATABASES)("migration 017 on a populated database on %s", (name, factory) => {
  // Enough rows for one partition of 16 MB and more, whose indexes the migration leaves to maintenance.
  const ROWS = 250_000;
  const PLUGS = 100;
  let test: TestDatabase;
  let db: Database;
  const week = weekStart(new Date());
  const at = (i: number) => new Date(week.getTime() + 60_000 + i * 1000).toISOString();
  const legacyKey = `fcnt:7:${Buffer.from(PAYLOAD).toString("hex")}`;
  const ROWS_SUM = `SELECT count(*)::int AS n, sum(hashtext(dev_eui || received_at || dedup_key || f_cnt || encode(payload, 'hex'))::bigint)::text AS sum FROM uplinks`;
  const KEEPALIVE = "SELECT dev_eui, spreading_factor, bandwidth_hz FROM device_keepalive ORDER BY dev_eui";

  beforeAll(async () => {
    test = await factory();
    db = test.db;
    await migrate(db, "016");
    await maintainPartitions(db, KEEP);
    await db.query(`INSERT INTO devices (dev_eui, name, network, first_seen) SELECT 'f0' || lpad(to_hex(d), 14, '0'), 'plug-' || d, 'ttn', $1
      FROM generate_series(1, ${PLUGS}) d`, [week.toISOString()]);
    await db.query(`INSERT INTO uplinks (dev_eui, received_at, dedup_key, network, f_cnt, f_port, payload, rssi, snr, spreading_factor, bandwidth_hz)
      SELECT 'f0' || lpad(to_hex(1 + i % ${PLUGS}), 14, '0'), $1::timestamptz + i * interval '1 second', 'old:' || i, 'ttn', i / ${PLUGS}, 2,
        '\\x011c034a241805d9e7195201'::bytea, -97.5, 7.25, 7 + i % 6, 125000
      FROM generate_series(0, ${ROWS - 1}) i`, [at(0)]);
    // Stored before 017 without a message id.
    await db.query(`INSERT INTO uplinks (dev_eui, received_at, dedup_key, network, f_cnt, f_port, payload)
      VALUES ('f000000000000001', $1, $2, 'ttn', 7, 2, $3)`, [at(-30), legacyKey, Buffer.from(PAYLOAD)]);
    await db.query("ANALYZE");
  }, 300_000);
  afterAll(() => test.drop());

  it("keeps every row and view, leaves the big partition to maintenance, which completes the indexes and drops the old key", async () => {
    const rowsBefore = (await db.query(ROWS_SUM)).rows[0];
    const keepaliveBefore = (await db.query(KEEPALIVE)).rows;
    expect(keepaliveBefore.filter((r) => r.spreading_factor !== null)).toHaveLength(PLUGS);

    expect(await migrate(db)).toEqual(["17 uplinks-compact-key"]);
    const indexes = async () => (await db.query<{ name: string; valid: boolean }>(
      "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'uplinks'::regclass ORDER BY 1")).rows;
    // The week holding the rows is large: its index waits for the pass, and the old key still serves.
    expect(await indexes()).toEqual([{ name: "uplinks_key", valid: false }, { name: "uplinks_pkey", valid: true }]);
    expect((await db.query(ROWS_SUM)).rows[0]).toEqual(rowsBefore);
    expect((await db.query(KEEPALIVE)).rows).toEqual(keepaliveBefore);
    // The retry of the uplink stored without a message id is found; another plug's is not it.
    const legacy = record("f000000000000001", at(-30), legacyKey);
    expect(await write(db, [legacy])).toEqual(["duplicate"]);
    expect(await write(db, [record("f000000000000002", at(-30), legacyKey)])).toEqual(["stored"]);

    const done = await maintainPartitions(db, KEEP);
    expect(done.filter((d) => d.startsWith("built and attached"))).toHaveLength(1);
    expect(done).toContain("dropped uplinks_pkey (uplinks_key valid on every partition)");
    expect(await indexes()).toEqual([{ name: "uplinks_key", valid: true }]);
    expect(await maintainPartitions(db, KEEP)).toEqual([]);

    const { rows: [after] } = await db.query<{ n: number }>(ROWS_SUM);
    expect(after.n).toBe((rowsBefore as { n: number }).n + 1);
    expect((await db.query(KEEPALIVE)).rows).toEqual(keepaliveBefore);
    expect(await write(db, [legacy])).toEqual(["duplicate"]);
    const fresh = record("f000000000000003", new Date().toISOString(), "tts:as:up:01CCCCCCCCCCCCCCCCCCCCCCCC");
    expect(await write(db, [fresh, fresh])).toEqual(["stored", "duplicate"]);
    expect(await write(db, [fresh])).toEqual(["duplicate"]);
    if (name === "PostgreSQL") {
      const { rows: plan } = await db.query<{ "QUERY PLAN": string }>(
        "EXPLAIN SELECT * FROM plug_uplinks('f000000000000001') u ORDER BY u.received_at DESC LIMIT 10");
      expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index Scan Backward using uplinks_p\d+_\w+ on/);
    }
  }, 300_000);
});
