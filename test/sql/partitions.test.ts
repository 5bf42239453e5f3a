// The time partitions' maintenance (migration 010, webhook/db/partitions.ts, contract §6): retention drops
// exactly the partitions whose week ended before it, whatever the data and the retention, and nothing else;
// the rollups (energy_hourly, energy_daily) are the same before and after; late rows the default partition
// caught are moved into their week once it is made; two instances maintaining at once neither fail nor
// drop twice.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, postgres } from "../../webhook/db/database";
import { maintainPartitions, type Retention, SERIES, weekStart } from "../../webhook/db/partitions";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { storeKeepAlives } from "../support/keepalives";

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const KEEP: Retention = { uplinksDays: 0, readingsDays: 0, eventsDays: 0 };

let devices = 0;
const newDevice = () => `c3c3${(Date.now() % 0xffffffff).toString(16).padStart(8, "0")}${(devices++).toString(16).padStart(4, "0")}`;

async function rollups(db: Database): Promise<unknown> {
  const { rows } = await db.query(`SELECT
    (SELECT jsonb_agg(h ORDER BY h.dev_eui, h.hour) FROM readings_hourly h) AS hourly,
    (SELECT jsonb_agg(d ORDER BY d.dev_eui, d.day) FROM readings_daily d) AS daily,
    (SELECT jsonb_agg(e ORDER BY e.dev_eui, e.hour) FROM energy_hourly e) AS energy_hourly,
    (SELECT jsonb_agg(e ORDER BY e.dev_eui, e.day) FROM energy_daily e) AS energy_daily`);
  return rows[0];
}

/** Each table's rows of `devs`, by time: the count from `from` on, and the count before it. */
async function counts(db: Database, devs: string[], from: Record<string, Date>): Promise<Record<string, { kept: number; older: number }>> {
  const result: Record<string, { kept: number; older: number }> = {};
  for (const { table, column } of SERIES) {
    const { rows } = await db.query<{ kept: number; older: number }>(
      `SELECT count(*) FILTER (WHERE ${column} >= $2)::int AS kept, count(*) FILTER (WHERE ${column} < $2)::int AS older
       FROM ${table} WHERE dev_eui = ANY ($1)`, [devs, from[table].toISOString()]);
    result[table] = rows[0];
  }
  return result;
}

describe.each(DATABASES)("time partitions on %s", (name, factory) => {
  let test: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    db = test.db;
  });
  afterAll(() => test.drop());

  it("makes the weeks ahead once, and a pass that finds them made does nothing", async () => {
    const now = new Date();
    expect(await maintainPartitions(db, KEEP, now)).not.toEqual([]);
    expect(await maintainPartitions(db, KEEP, now)).toEqual([]);
    // Every table has its current week and the two after it (a new database's _before ends this Monday).
    for (const { table } of SERIES) {
      for (let week = 0; week <= 2; week++) {
        const start = new Date(weekStart(now).getTime() + week * WEEK);
        const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = $1::regclass AND pg_get_expr(c.relpartbound, c.oid) NOT IN ('DEFAULT')
          AND c.relname = $2 || '_p' || to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYYMMDD')`, [table, table, start.toISOString()]);
        expect(rows[0].n).toBe(1);
      }
    }
  });

  it("moves what the default partition caught into its week once that week is made", async () => {
    const dev = newDevice();
    // After the weeks made ahead: the default partition catches it.
    const far = new Date(weekStart(new Date()).getTime() + 4 * WEEK);
    await storeKeepAlives(db, dev, [{ time: new Date(far.getTime() + DAY).toISOString(), energyWh: 10 }]);
    const where = async () => (await db.query<{ t: string }>("SELECT tableoid::regclass::text AS t FROM readings WHERE dev_eui = $1", [dev])).rows[0].t;
    expect(await where()).toBe("readings_default");
    const done = await maintainPartitions(db, KEEP, far);
    expect(done).toContain(`created readings_p${far.toISOString().slice(0, 10).replaceAll("-", "")}, moving 1 rows into it from readings_default`);
    expect(await where()).toBe(`readings_p${far.toISOString().slice(0, 10).replaceAll("-", "")}`);
  });

  it("puts history loaded after the fact into its weeks, and a retention then shrinks the table", async () => {
    const dev = newDevice();
    const now = new Date();
    // Five weeks of keep-alives, every 2 hours, arriving after the service made only this week and the next.
    const times = Array.from({ length: 5 * 84 }, (_, i) => new Date(now.getTime() - 35 * DAY + i * 2 * 3_600_000)).filter((t) => t < now);
    await storeKeepAlives(db, dev, times.map((t, i) => ({ time: t.toISOString(), energyWh: 1000 + i })));
    const size = async () => Number((await db.query<{ bytes: string }>(
      "SELECT sum(pg_total_relation_size(relid)) AS bytes FROM pg_partition_tree('uplinks')")).rows[0].bytes);
    const sizeBefore = await size();
    const rollupsBefore = await rollups(db);
    const done = await maintainPartitions(db, { uplinksDays: 7, readingsDays: 0, eventsDays: 0 }, now);
    expect(done.some((d) => d.startsWith("emptied uplinks_default"))).toBe(true);
    const from = weekStart(new Date(now.getTime() - 7 * DAY));
    const { rows: [left] } = await db.query<{ uplinks: number; older: number; readings: number; caught: number }>(`SELECT
      (SELECT count(*)::int FROM uplinks WHERE dev_eui = $1) AS uplinks, (SELECT count(*)::int FROM uplinks WHERE dev_eui = $1 AND received_at < $2) AS older,
      (SELECT count(*)::int FROM readings WHERE dev_eui = $1) AS readings, (SELECT count(*)::int FROM readings_default) AS caught`, [dev, from.toISOString()]);
    expect(left).toEqual({ uplinks: times.filter((t) => t >= from).length, older: 0, readings: times.length, caught: 0 });
    expect(await rollups(db)).toEqual(rollupsBefore);
    expect(await size()).toBeLessThan(sizeBefore);
  });

  it("drops exactly the partitions whose week ended before the retention, and the rollups stay as they were", async () => {
    let run = 0;
    const scenario = fc.record({
      weeks: fc.integer({ min: 2, max: 6 }),
      plugs: fc.integer({ min: 1, max: 3 }),
      gapHours: fc.integer({ min: 2, max: 30 }),
      // Events in some of the hours, as responses and protection trips arrive.
      eventEvery: fc.integer({ min: 1, max: 10 }),
      retention: fc.record({ uplinksDays: fc.integer({ min: 0, max: 50 }), readingsDays: fc.integer({ min: 0, max: 50 }), eventsDays: fc.integer({ min: 0, max: 50 }) }),
      laterDays: fc.integer({ min: 0, max: 6 }),
    });
    await fc.assert(fc.asyncProperty(scenario, async ({ weeks, plugs, gapHours, eventEvery, retention, laterDays }) => {
      // Each run in weeks of its own, after the previous runs' (time moves on, as it does for the service).
      const base = new Date(weekStart(new Date()).getTime() + (10 + 12 * run++) * WEEK);
      const devs = Array.from({ length: plugs }, newDevice);
      for (let week = 0; week < weeks; week++) {
        // The service's hourly pass as time reaches each week, keeping everything meanwhile.
        await maintainPartitions(db, KEEP, new Date(base.getTime() + week * WEEK));
        for (const [p, dev] of devs.entries()) {
          const times: number[] = [];
          for (let t = base.getTime() + week * WEEK + p * 60_000; t < base.getTime() + (week + 1) * WEEK; t += gapHours * 3_600_000) times.push(t);
          await storeKeepAlives(db, dev, times.map((t, i) => ({ time: new Date(t).toISOString(), energyWh: 1000 + week * 1000 + i * 7, powerW: i % 500 })));
          await db.query(`INSERT INTO device_events (dev_eui, time, kind, data, network, dedup_key)
            SELECT $1, t, 'relayState', '{"relayState": "ON"}', 'ttn', 'test:' || i FROM unnest($2::timestamptz[]) WITH ORDINALITY AS x(t, i) WHERE i % $3 = 0`,
          [dev, times.map((t) => new Date(t).toISOString()), eventEvery]);
        }
      }
      const now = new Date(base.getTime() + weeks * WEEK + laterDays * DAY);
      const from: Record<string, Date> = {};
      for (const series of SERIES) {
        const days = series.days(retention);
        from[series.table] = days > 0 ? weekStart(new Date(now.getTime() - days * DAY)) : new Date(0);
      }
      const before = await counts(db, devs, from);
      const rollupsBefore = await rollups(db);

      const done = await maintainPartitions(db, retention, now);

      const after = await counts(db, devs, from);
      for (const { table } of SERIES) {
        // Every row from the week the retention ends in is kept, every row before it gone.
        expect({ table, ...after[table] }).toEqual({ table, kept: before[table].kept, older: 0 });
      }
      expect(await rollups(db)).toEqual(rollupsBefore);
      // Only partitions wholly before the retention were dropped, each once.
      const dropped = done.filter((d) => d.startsWith("dropped "));
      expect(new Set(dropped).size).toBe(dropped.length);
      for (const series of SERIES) {
        const days = series.days(retention);
        const { rows } = await db.query<{ to: Date | null }>(`SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS "to"
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`, [series.table]);
        if (days > 0) for (const r of rows) if (r.to) expect(r.to.getTime()).toBeGreaterThan(now.getTime() - days * DAY);
        if (days === 0) expect(dropped.filter((d) => d.startsWith(`dropped ${series.table}_`))).toEqual([]);
      }
    }), { numRuns: 6 });
  }, 600_000);

  it.runIf(name === "PostgreSQL")("two instances maintaining at once neither fail nor do anything twice", async () => {
    const other = postgres(test.url!, 2);
    try {
      const now = new Date(weekStart(new Date()).getTime() + 100 * WEEK);
      const retention = { uplinksDays: 30, readingsDays: 60, eventsDays: 90 };
      const [a, b] = await Promise.all([maintainPartitions(db, retention, now), maintainPartitions(other, retention, now)]);
      const all = [...a, ...b];
      expect(all.length).toBeGreaterThan(0);
      expect(new Set(all).size).toBe(all.length);
      // One of them did the work; the other found it done.
      expect(a.length === 0 || b.length === 0).toBe(true);
    } finally {
      await other.close();
    }
  });
});
