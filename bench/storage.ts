// npm run bench:storage — bytes per keep-alive on PostgreSQL, every table and index, after VACUUM: 200 plugs ×
// 3 days of keep-alives at the plug's 10-minute cadence written through the service's own batch writer
// (writeBatch, as /ttn hands it records), into
//   new:      this schema (partitioned, migrations 010–011; a keep-alive's uplink without decoded JSON), then
//             the same after one maintenance pass two weeks later (the week closed: its indexes rebuilt);
//   baseline: the schema as it was before (migration 009), written with the decoded JSON it stored then;
// the two written batch by batch, interleaved. Prints bytes per keep-alive per table (heap and indexes), for the
// new schema per relation too, and GB per 1,000 plugs after a year at the defaults (uplinks kept 90 days,
// readings and rollups kept).
// Sizes are counted in pages, so the machine's load does not change them.
import { randomBytes } from "node:crypto";
import type { Database, Queryable } from "../webhook/db/database";
import { migrate } from "../webhook/db/migrate";
import { maintainPartitions, weekStart } from "../webhook/db/partitions";
import { interpret } from "../webhook/ingest/interpret";
import type { UplinkRecord } from "../webhook/ingest/records";
import { writeBatch } from "../webhook/store/batch";
import { freshPostgres } from "../test/support/databases";
import { keepAliveBytes } from "../test/support/keepalives";

const SERVER = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const PLUGS = Number(process.env.BENCH_PLUGS ?? 200);
const DAYS = Number(process.env.BENCH_DAYS ?? 3);
const PERIOD_MS = 10 * 60_000;
/** Records per batch: a tenth of the fleet, as arrivals spread over the period make them. */
const BATCH = Math.max(1, Math.round(PLUGS / 10));
const RETENTION = { uplinksDays: 90, readingsDays: 0, eventsDays: 0 };
const KEEPALIVES_PER_YEAR = 365 * 24 * 6;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** A TTS message id as its correlation ids carry it: as:up: and a 26-character ULID. */
const messageId = () => `as:up:${[...randomBytes(26)].map((b) => CROCKFORD[b % 32]).join("")}`;

interface Plug {
  devEui: string;
  fCnt: number;
  energyWh: number;
}

function record(plug: Plug, time: Date): UplinkRecord {
  plug.fCnt++;
  plug.energyWh += Math.floor(Math.random() * 40);
  const payload = keepAliveBytes({ time: time.toISOString(), energyWh: plug.energyWh, powerW: 100 + Math.floor(Math.random() * 900),
    voltageV: 225 + Math.floor(Math.random() * 10), currentMa: Math.floor(Math.random() * 4000), temperatureC: 20 + Math.floor(Math.random() * 15) });
  return {
    type: "uplink", network: "ttn", devEui: plug.devEui, deviceName: `plug-${plug.devEui.slice(-4)}`, application: "storage-bench",
    // Each plug's keep-alive at its own second of the period, as a fleet's clocks spread them.
    receivedAt: time.toISOString(), dedupKey: `tts:${messageId()}`, fCnt: plug.fCnt, fPort: 2, payload, networkDecoded: null,
    rssi: -70 - Math.floor(Math.random() * 50), snr: Math.round(Math.random() * 200 - 100) / 10, gatewayCount: 1 + Math.floor(Math.random() * 3),
    spreadingFactor: 7 + Math.floor(Math.random() * 3), bandwidthHz: 125000, frequency: 868100000 + 200000 * Math.floor(Math.random() * 3), simulated: false,
  };
}

/** The writer's statement with each uplink's decoded JSON put back, as the schema before migration 010 kept it. */
function withDecoded(tx: Queryable): Queryable {
  return {
    query(sql, params) {
      if (params) {
        const uplinks = JSON.parse(params[1] as string) as { payload: string; decoded: unknown }[];
        for (const u of uplinks) {
          u.decoded ??= interpret({ payload: Buffer.from(u.payload, "hex"), fPort: 2, networkDecoded: null } as unknown as UplinkRecord).decoded;
        }
        params = [params[0], JSON.stringify(uplinks), params[2], params[3]];
      }
      return tx.query(sql, params);
    },
  };
}

interface Size {
  group: string;
  heap: number;
  indexes: number;
}

/** Heap (with TOAST) and index bytes per group of tables, partitions counted with their table. */
async function sizes(db: Database): Promise<Size[]> {
  await db.query("VACUUM");
  const { rows } = await db.query<{ group: string; heap: string; indexes: string }>(`
    WITH rel AS (
      SELECT c.oid, coalesce(parent.relname, c.relname) AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class parent ON parent.oid = i.inhparent
      WHERE c.relkind = 'r'
    )
    SELECT CASE WHEN name IN ('readings_hourly', 'readings_daily') THEN 'rollups' WHEN name IN ('uplinks', 'readings') THEN name ELSE 'other' END AS group,
      sum(pg_table_size(oid)) AS heap, sum(pg_indexes_size(oid)) AS indexes
    FROM rel GROUP BY 1 ORDER BY array_position(ARRAY['uplinks', 'readings', 'rollups', 'other'], CASE WHEN name IN ('readings_hourly', 'readings_daily') THEN 'rollups' WHEN name IN ('uplinks', 'readings') THEN name ELSE 'other' END)`);
  return rows.map((r) => ({ group: r.group, heap: Number(r.heap), indexes: Number(r.indexes) }));
}

/** Bytes per keep-alive of each table (heap with TOAST) and index, partitions and their indexes counted with their table's. */
async function relations(db: Database, keepAlives: number): Promise<string> {
  const { rows } = await db.query<{ name: string; bytes: string }>(`
    WITH rel AS (
      SELECT c.oid, c.relkind, coalesce(parent.relname, c.relname) AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class parent ON parent.oid = i.inhparent
      WHERE c.relkind IN ('r', 'i')
    )
    SELECT name, sum(CASE relkind WHEN 'r' THEN pg_table_size(oid) ELSE pg_relation_size(oid) END) AS bytes FROM rel GROUP BY name ORDER BY 2 DESC`);
  const per = rows.map((r) => ({ name: r.name, per: Number(r.bytes) / keepAlives }));
  const rest = per.filter((r) => r.per < 1).reduce((sum, r) => sum + r.per, 0);
  return `${per.filter((r) => r.per >= 1).map((r) => `${r.name} ${r.per.toFixed(1)}`).join(", ")}, the rest ${rest.toFixed(1)}`;
}

function report(title: string, list: Size[], keepAlives: number, uplinkDays: number | null): void {
  const per = (bytes: number) => (bytes / keepAlives).toFixed(0).padStart(5);
  console.log(`\n${title}`);
  console.log("  table        heap  indexes  total  bytes per keep-alive");
  let total = 0;
  let year = 0;
  for (const s of list) {
    const bytes = s.heap + s.indexes;
    total += bytes;
    // What a year leaves: uplinks up to their retention and the week that ends it, the rest all year.
    const kept = s.group === "uplinks" && uplinkDays !== null ? Math.min(365, uplinkDays + 7) * 24 * 6 : KEEPALIVES_PER_YEAR;
    year += (bytes / keepAlives) * kept * 1000;
    console.log(`  ${s.group.padEnd(10)} ${per(s.heap)}  ${per(s.indexes)}   ${per(bytes)}`);
  }
  console.log(`  all        ${" ".repeat(15)}${per(total)}`);
  console.log(`  GB per 1,000 plugs after a year: ${(year / 1e9).toFixed(1)}${uplinkDays === null ? " (nothing expires)" : ` (uplinks kept ${uplinkDays} days, the rest kept)`}`);
}

async function main(): Promise<void> {
  const current = await freshPostgres(SERVER, "aspm16_bench");
  const before = await freshPostgres(SERVER, "aspm16_bench");
  try {
    await migrate(current.db);
    await migrate(before.db, "009");
    // Next week, so the load lands in a weekly partition the service made ahead.
    const start = new Date(weekStart(new Date()).getTime() + 7 * 86_400_000);
    await maintainPartitions(current.db, RETENTION, start);
    const plugs: Plug[] = Array.from({ length: PLUGS }, (_, i) => ({ devEui: `a0${randomBytes(6).toString("hex")}${i.toString(16).padStart(2, "0").slice(-2)}`, fCnt: 0, energyWh: 1_000_000 + i }));
    const steps = (DAYS * 86_400_000) / PERIOD_MS;
    let keepAlives = 0;
    console.log(`${PLUGS} plugs × ${DAYS} days every 10 minutes (${PLUGS * steps} keep-alives), batches of ${BATCH}, through writeBatch; PostgreSQL ${SERVER.replace(/\/\/[^@]*@/, "//")}`);
    for (let step = 0; step < steps; step++) {
      for (let first = 0; first < PLUGS; first += BATCH) {
        const records = plugs.slice(first, first + BATCH).map((plug, i) =>
          record(plug, new Date(start.getTime() + step * PERIOD_MS + ((first + i) * PERIOD_MS) / PLUGS)));
        await current.db.transaction((tx) => writeBatch(tx, records));
        await before.db.transaction((tx) => writeBatch(withDecoded(tx), records));
        keepAlives += records.length;
      }
    }
    report("baseline: the schema before (migration 009), decoded JSON kept", await sizes(before.db), keepAlives, null);
    report("new: as written (the week still open: its indexes as the inserts left them)", await sizes(current.db), keepAlives, RETENTION.uplinksDays);
    console.log(`  per relation: ${await relations(current.db, keepAlives)}`);
    const done = await maintainPartitions(current.db, { uplinksDays: 0, readingsDays: 0, eventsDays: 0 }, new Date(start.getTime() + 14 * 86_400_000));
    report(`new: after the maintenance pass once the week closed (${done.filter((d) => d.startsWith("rebuilt")).length} partitions' indexes rebuilt)`,
      await sizes(current.db), keepAlives, RETENTION.uplinksDays);
    console.log(`  per relation: ${await relations(current.db, keepAlives)}`);
  } finally {
    await current.drop();
    await before.drop();
  }
}

await main();
