// Moving off the embedded default: everything stored in PGlite is copied into another database (PostgreSQL
// as users do it; PGlite too, so the suite checks it without a server), and every table and view gives the
// same rows before and after.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyDatabase } from "../../webhook/db/copy";
import { type Database, pglite } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { writeBatch } from "../../webhook/store/batch";
import { DATABASES, freshPostgres, type TestDatabase } from "../support/databases";
import { hex } from "../support/hex";
import { keepAliveBytes, uplinkRecord } from "../support/keepalives";
import { finished, startProgram } from "../support/process";

const DEVICES = ["a1b2c3d4e5f60001", "a1b2c3d4e5f60002"];

/** A little of everything: keep-alives over two days with a counter reset, responses, events, undecodable bytes. */
async function fill(db: Database): Promise<void> {
  await migrate(db);
  const start = Date.UTC(2026, 10, 1);
  const records = DEVICES.flatMap((devEui, d) => [
    ...Array.from({ length: 60 }, (_, i) => {
      const time = new Date(start + i * 50 * 60_000).toISOString();
      // The counter is reset once, 40 readings in; 64-bit-sized numbers go through bigint columns.
      const energyWh = i < 40 ? 4_000_000_000 + i * 137 + d : i * 11;
      return uplinkRecord(devEui, time, keepAliveBytes({ time, energyWh, powerW: 100 + i, voltageV: 229, currentMa: 450 + i, temperatureC: i % 2 ? -3 : 31, relayOn: i % 7 !== 0 }), i);
    }),
    uplinkRecord(devEui, new Date(start + 3_600_000 * 70).toISOString(), Uint8Array.from(hex("12 0F 19 3C 1F 3C 32 60 02 45")), 100),
    uplinkRecord(devEui, new Date(start + 3_600_000 * 71).toISOString(), Uint8Array.from(hex("FF 00 01")), 101),
    { ...uplinkRecord(devEui, new Date(start + 3_600_000 * 72).toISOString(), Uint8Array.from(hex("5D 01")), 102), rssi: -60.5, snr: -7.25 },
  ]);
  await db.transaction((tx) => writeBatch(tx, records));
}

/** Every table's and view's rows as PostgreSQL's own JSON, in a fixed order. */
async function snapshot(db: Database): Promise<Record<string, string>> {
  const { rows: relations } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') AND c.relname <> 'schema_migrations' ORDER BY 1`);
  const result: Record<string, string> = {};
  for (const { name } of relations) {
    const { rows } = await db.query<{ rows: string }>(`SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text AS rows FROM "${name}" t`);
    result[name] = rows[0].rows;
  }
  return result;
}

/**
 * A table a later migration might add (an id generated always) and a plain sequence, made in the source
 * and the target alike: the copy must keep the ids and carry the sequences on.
 */
const EXTRA = `CREATE TABLE copy_extra (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
  CREATE SEQUENCE copy_counter;`;

// One source for the whole file, in a DATA_DIR as the service keeps it: making a PGlite costs seconds of CPU.
let dataDir: string;
let source: Database;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "aspm16-copy-"));
  source = await pglite(join(dataDir, "pglite"));
  await fill(source);
  await source.session((s) => s.exec(EXTRA));
  await source.query("INSERT INTO copy_extra (note) SELECT 'row ' || n FROM generate_series(1, 5) n");
  await source.query("DELETE FROM copy_extra WHERE id = 5");
  await source.query("SELECT setval('copy_counter', 41)");
});
afterAll(async () => {
  await source.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe.each(DATABASES)("copying PGlite into %s", (_name, factory) => {
  let target: TestDatabase;

  beforeAll(async () => {
    target = await factory();
    await migrate(target.db);
    await target.db.session((s) => s.exec(EXTRA));
  });
  afterAll(async () => {
    await target.drop();
  });

  it("gives the same rows in every table and view, rollups included", async () => {
    const before = await snapshot(source);
    const report = await copyDatabase(source, target.db);
    expect(await snapshot(target.db)).toEqual(before);
    expect(JSON.parse(before.energy_hourly).length).toBeGreaterThan(40);
    expect(JSON.parse(before.device_events).length).toBeGreaterThan(0);
    const counts = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]));
    expect(counts).toMatchObject({ devices: 2, uplinks: 126, readings: 120, copy_extra: 4 });
    // Parents before the tables whose foreign keys point at them ("device_events" sorts before "devices").
    const order = report.tables.map((t) => t.table);
    for (const child of ["device_events", "downlinks", "keepalive_desired"]) expect(order.indexOf("devices")).toBeLessThan(order.indexOf(child));
  });

  it("keeps generated ids and carries the sequences on, so the next row gets a new id", async () => {
    expect((await target.db.query<{ id: number }>("SELECT id::int FROM copy_extra ORDER BY id")).rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect((await target.db.query("INSERT INTO copy_extra (note) VALUES ('next') RETURNING id::int")).rows).toEqual([{ id: 6 }]);
    expect((await target.db.query("SELECT nextval('copy_counter')::int AS n")).rows).toEqual([{ n: 42 }]);
  });

  it("refuses a target that already holds rows, and changes nothing in it", async () => {
    const before = await snapshot(target.db);
    await expect(copyDatabase(source, target.db)).rejects.toThrow("the target already holds rows in copy_extra: copy into a new, empty database");
    expect(await snapshot(target.db)).toEqual(before);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)("npm run copy-to-postgres (needs TEST_DATABASE_URL)", () => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await freshPostgres(process.env.TEST_DATABASE_URL!);
    // The program opens DATA_DIR's database itself; the tables it needs beyond the migrations first.
    await migrate(target.db);
    await target.db.session((s) => s.exec(EXTRA));
    await source.close();
  });
  afterAll(async () => {
    await target.drop();
    source = await pglite(join(dataDir, "pglite"));
  });

  it("copies DATA_DIR's database into the PostgreSQL named by TARGET_DATABASE_URL", async () => {
    const result = await finished(startProgram("copy", { DATA_DIR: dataDir, TARGET_DATABASE_URL: target.url! }));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`copying ${join(dataDir, "pglite")} into PostgreSQL at ${new URL(target.url!).host}${new URL(target.url!).pathname}`);
    expect(result.stdout).toMatch(/^done: \d+ rows in \d+ tables, 2 sequences\.$/m);
    const copied = await pglite(join(dataDir, "pglite"));
    try {
      expect(await snapshot(target.db)).toEqual(await snapshot(copied));
    } finally {
      await copied.close();
    }
  }, 60_000);

  it("says what is wrong in one line: no embedded database, not a PostgreSQL URL", async () => {
    const empty = await finished(startProgram("copy", { DATA_DIR: join(dataDir, "nothing-here"), TARGET_DATABASE_URL: target.url! }));
    expect(empty.code).toBe(1);
    expect(empty.stderr.trim()).toBe(`npm run copy-to-postgres failed: no embedded database in ${join(dataDir, "nothing-here", "pglite")} (set DATA_DIR to the service's data directory)`);
    const wrong = await finished(startProgram("copy", { DATA_DIR: dataDir, TARGET_DATABASE_URL: "mysql://x@y/z" }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("npm run copy-to-postgres failed: expected a postgres:// URL, got mysql://…");
  });
});
