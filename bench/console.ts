// npm run bench:console — what the console's pages ask of the service, on the embedded default (PGlite, in
// memory), over a real socket: the fleet page's reads, a plug page's reads, the CSV export. Each figure stands
// beside two baselines measured in the same run: GET /healthz (the HTTP round trip alone) and the bare SQL the
// read is built on (the database's share). BENCH_DEVICES (100) plugs × BENCH_DAYS (30) days of 10-minute
// keep-alives go in a day at a time through rollup_readings, as the webhook feeds them.
import { performance } from "node:perf_hooks";
import { pglite } from "../webhook/db/database";
import { migrate } from "../webhook/db/migrate";
import { servedApp } from "./served-app";
import { medianMs } from "./timing";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const DAY_MS = 86_400_000;
const END = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const START = END - DAYS * DAY_MS;

// Plug d draws (d % 300 + 10) W, so its counter grows by that / 6 Wh every 10 minutes.
const LOAD_DAY = `
WITH inserted AS (
  INSERT INTO devices (dev_eui, name, application, network, first_seen, last_seen, last_keepalive_at)
  SELECT lpad(to_hex(d), 16, '0'), 'plug-' || d, 'app-' || (d % 4), 'ttn', $1::timestamptz, $2::timestamptz + interval '1 day', $2::timestamptz + interval '1 day' - interval '10 minutes'
  FROM generate_series(1, $3::int) d
  ON CONFLICT (dev_eui) DO UPDATE SET last_seen = EXCLUDED.last_seen, last_keepalive_at = EXCLUDED.last_keepalive_at
  RETURNING 1
), readings_in AS (
  INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
  SELECT lpad(to_hex(d), 16, '0'), t, 25, (extract(epoch FROM t - $1::timestamptz) / 600)::bigint * (d % 300 + 10) / 6,
    d % 300 + 10, 230, (d % 300 + 10) * 1000 / 230, true
  FROM generate_series(1, $3::int) d,
       generate_series($2::timestamptz, $2::timestamptz + interval '1 day' - interval '10 minutes', interval '10 minutes') t
  WHERE (SELECT count(*) FROM inserted) > 0
  RETURNING dev_eui, time
)
SELECT rollup_readings(jsonb_agg(readings_in)) FROM readings_in`;

const iso = (ms: number) => new Date(ms).toISOString();
const plug = Math.ceil(DEVICES / 2).toString(16).padStart(16, "0");

/** After two warm-up calls. */
const time = (run: () => Promise<unknown>) => medianMs(run, RUNS, 2);

const db = await pglite();
await migrate(db);
const loadStart = performance.now();
for (let day = 0; day < DAYS; day++) await db.query(LOAD_DAY, [iso(START), iso(START + day * DAY_MS), DEVICES]);
console.log(`loaded ${DEVICES} plugs × ${DAYS} days (${DEVICES * DAYS * 144} readings) into PGlite in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);

const app = await servedApp(db);
const { get } = app;
const sizeOf = async (path: string) => (await get(path)).byteLength;

const week = `from=${iso(END - 6 * DAY_MS)}&to=${iso(END + DAY_MS)}`;
const month = `from=${iso(START)}&to=${iso(END)}`;
const zone = "tz=Europe/Berlin";
const cases: { name: string; path: string; sql: string; params: unknown[] }[] = [
  { name: "fleet: GET /api/devices", path: "/api/devices", sql: "SELECT * FROM device_status", params: [] },
  { name: "fleet: every plug's energy per local day, 7 days", path: `/api/energy/devices?period=day&${week}&${zone}`,
    sql: "SELECT dev_eui, hour, energy_wh FROM energy_hourly WHERE hour >= $1 AND hour < $2", params: [iso(END - 6 * DAY_MS), iso(END + DAY_MS)] },
  { name: "fleet: energy per local day, 30 days", path: `/api/energy?period=day&${month}&${zone}`,
    sql: "SELECT hour, energy_wh FROM energy_hourly WHERE hour >= $1 AND hour < $2", params: [iso(START), iso(END)] },
  { name: "plug: readings, 7 days (every keep-alive)", path: `/api/devices/${plug}/readings?${week}`,
    sql: "SELECT * FROM readings WHERE dev_eui = $1 AND time >= $2 AND time < $3", params: [plug, iso(END - 6 * DAY_MS), iso(END + DAY_MS)] },
  { name: "plug: energy per hour, 30 days", path: `/api/devices/${plug}/energy?period=hour&${month}`,
    sql: "SELECT hour, energy_wh FROM energy_hourly WHERE dev_eui = $1 AND hour >= $2 AND hour < $3", params: [plug, iso(START), iso(END)] },
  { name: "export: CSV per hour, every plug, 30 days", path: `/api/export/energy.csv?period=hour&${month}`,
    sql: "SELECT e.dev_eui, d.name, e.hour, e.energy_wh FROM energy_hourly e JOIN devices d USING (dev_eui) WHERE hour >= $1 AND hour < $2", params: [iso(START), iso(END)] },
];

const http = await time(() => get("/healthz"));
console.log(`\nbaseline GET /healthz: ${http.toFixed(2)} ms (median of ${RUNS}); PGlite in this process; 2 shared cores, so figures are noisy: compare the ratios\n`);
console.log(["read", "answer", "median ms", "bare SQL ms", "× SQL", "× /healthz"].join(" | "));
for (const c of cases) {
  const bytes = await sizeOf(c.path);
  const ms = await time(() => get(c.path));
  const sql = await time(() => db.query(c.sql, c.params));
  console.log([c.name, `${(bytes / 1024).toFixed(0)} KiB`, ms.toFixed(1), sql.toFixed(1), (ms / sql).toFixed(1), (ms / http).toFixed(0)].join(" | "));
}
await app.close();
await db.close();
