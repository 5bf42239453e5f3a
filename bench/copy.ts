// npm run bench:copy — npm run copy-to-postgres's copy, timed: an in-memory PGlite holding a fleet's week
// (BENCH_DEVICES plugs × 7 days of 10-minute keep-alives, each an uplink and a reading) copied into a fresh
// PostgreSQL database. Baseline, measured in the same run: only reading every row out of PGlite as JSON
// text, the copy's lower bound. The machine is shared, so compare the ratio, not the absolute figures.
import { copyDatabase } from "../webhook/db/copy";
import { type Database, pglite } from "../webhook/db/database";
import { migrate } from "../webhook/db/migrate";
import { freshPostgres } from "../test/support/databases";

const SERVER = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DEVICES = Number(process.env.BENCH_DEVICES ?? 100);
const START = "2026-11-01T00:00:00Z";

async function fill(db: Database): Promise<void> {
  await migrate(db);
  await db.query(`INSERT INTO devices (dev_eui, name, network, first_seen)
    SELECT lpad(to_hex(d), 16, '0'), 'plug-' || d, 'ttn', $1 FROM generate_series(1, $2::int) d`, [START, DEVICES]);
  const series = `FROM generate_series(1, $2::int) d,
    generate_series($1::timestamptz, $1::timestamptz + interval '7 days' - interval '10 minutes', interval '10 minutes') t`;
  await db.query(`INSERT INTO uplinks (dev_eui, network, received_at, dedup_key, f_cnt, f_port, payload, rssi, snr)
    SELECT lpad(to_hex(d), 16, '0'), 'ttn', t, 'bench:' || d || ':' || extract(epoch FROM t), 0, 2, '\\x011c034a241805d9e7195201'::bytea, -97.5, 7.25 ${series}`, [START, DEVICES]);
  await db.query(`INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
    SELECT lpad(to_hex(d), 16, '0'), t, 25, 4000000000 + extract(epoch FROM t)::bigint / 60, 100 + d, 230, 450, true ${series}`, [START, DEVICES]);
}

/** Reads every row of every table as the copy does (a cursor, 2,000 rows a fetch), writing nothing. */
async function readAll(db: Database): Promise<number> {
  let rows = 0;
  await db.transaction(async (tx) => {
    for (const table of ["devices", "uplinks", "readings"]) {
      await tx.query(`DECLARE r NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS row FROM ${table} t`);
      for (;;) {
        const batch = await tx.query(`FETCH 2000 FROM r`);
        if (batch.rows.length === 0) break;
        rows += batch.rows.length;
      }
      await tx.query("CLOSE r");
    }
  });
  return rows;
}

const source = await pglite();
await fill(source);
const target = await freshPostgres(SERVER, "aspm16_bench");
try {
  let start = performance.now();
  const read = await readAll(source);
  const readSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  const report = await copyDatabase(source, target.db);
  const copySeconds = (performance.now() - start) / 1000;
  const copied = report.tables.reduce((sum, t) => sum + t.rows, 0);
  console.log(`${DEVICES} plugs × 7 days: ${copied} rows (${report.tables.map((t) => `${t.table} ${t.rows}`).join(", ")})`);
  console.log(`baseline, reading every row out of PGlite: ${readSeconds.toFixed(2)} s, ${Math.round(read / readSeconds)} rows/s`);
  console.log(`copy into PostgreSQL (migrate, read, insert, count):  ${copySeconds.toFixed(2)} s, ${Math.round(copied / copySeconds)} rows/s`);
  console.log(`copy / baseline: ${(copySeconds / readSeconds).toFixed(2)}×  (shared machine: compare this ratio, not the seconds)`);
} finally {
  await target.drop();
  await source.close();
}
