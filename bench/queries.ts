// npm run bench:queries — dashboard queries on a synthetic fleet in real PostgreSQL: 1,000 plugs × 30 days
// of 10-minute keep-alives (4.3 million readings), then again with the data doubled (60 days). Readings go
// in a day at a time through rollup_readings, as the webhook feeds them.
import { freshPostgres } from "../test/support/databases";
import type { Database } from "../webhook/db/database";
import { migrate } from "../webhook/db/migrate";

const SERVER = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DEVICES = Number(process.env.BENCH_DEVICES ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const RUNS = 25;
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 1);

// Each plug draws its own steady power with a daily swing; every 50th plug's counter is cleared on day 15.
// Energy is the integral of that power, in Wh, so the counter only grows (or drops at a reset).
const LOAD_DAY = `
WITH r AS (
  SELECT lpad(to_hex(d), 16, '0') AS dev_eui, t, d,
    ((extract(epoch FROM t) - extract(epoch FROM $1::timestamptz)) / 600)::bigint AS step
  FROM generate_series(1, $3::int) d,
       generate_series($2::timestamptz, $2::timestamptz + interval '1 day' - interval '10 minutes', interval '10 minutes') t
), inserted AS (
  INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
  SELECT dev_eui, t, 25 + d % 10,
    CASE WHEN d % 50 = 0 AND t >= $1::timestamptz + interval '15 days'
         THEN (step - 15 * 144) * (d % 300 + 10) / 6 ELSE step * (d % 300 + 10) / 6 END,
    (d % 300 + 10) + (50 * sin(step / 24.0))::int, 230, ((d % 300 + 10) * 1000 / 230), true
  FROM r
  RETURNING dev_eui, time
)
SELECT rollup_readings(jsonb_agg(inserted)) FROM inserted`;

const QUERIES: { name: string; goalMs: number; sql: string; params: (end: number) => unknown[] }[] = [
  {
    name: "one device's daily energy, 30 days", goalMs: 20,
    sql: `SELECT day, energy_wh FROM energy_daily WHERE dev_eui = $1 AND day >= $2 AND day < $3 ORDER BY day`,
    params: (end) => [lpadHex(DEVICES >> 1), new Date(end - 30 * DAY_MS), new Date(end)],
  },
  {
    name: "fleet energy per day, 30 days", goalMs: 200,
    sql: `SELECT day, energy_wh, devices FROM fleet_energy_daily WHERE day >= $1 AND day < $2 ORDER BY day`,
    params: (end) => [new Date(end - 30 * DAY_MS), new Date(end)],
  },
  {
    name: "status of every device", goalMs: 50,
    sql: `SELECT * FROM device_status_at($1) ORDER BY dev_eui`,
    params: (end) => [new Date(end - 60_000)],
  },
];

// The same fleet figure computed from the raw readings, for scale: what the rollups spare dashboards.
const RAW_FLEET = `
WITH pairs AS (
  SELECT time, energy_wh, lag(energy_wh) OVER (PARTITION BY dev_eui ORDER BY time) AS prev FROM readings
  WHERE time >= $1::timestamptz - interval '1 day' AND time < $2
)
SELECT date_trunc('day', time, 'UTC') AS day,
  sum(CASE WHEN prev IS NULL THEN 0 WHEN energy_wh >= prev THEN energy_wh - prev ELSE energy_wh END)
FROM pairs WHERE time >= $1 GROUP BY 1 ORDER BY 1`;

function lpadHex(n: number): string {
  return n.toString(16).padStart(16, "0");
}

async function median(db: Database, sql: string, params: unknown[], runs = RUNS): Promise<{ ms: number; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    rows = (await db.query(sql, params)).rows.length;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], rows };
}

async function loadDays(db: Database, from: number, days: number): Promise<void> {
  const start = performance.now();
  for (let day = from; day < from + days; day++) {
    await db.transaction((tx) => tx.query(LOAD_DAY, [new Date(START), new Date(START + day * DAY_MS), DEVICES]));
  }
  const end = START + (from + days) * DAY_MS;
  // The devices' state, as the webhook keeps it: every 20th plug went quiet an hour ago, every 7th
  // reported a 15-minute period.
  await db.query(`UPDATE devices SET last_seen = $1::timestamptz, last_keepalive_at = $1::timestamptz - CASE WHEN ('x' || right(dev_eui, 4))::bit(16)::int % 20 = 0
      THEN interval '1 hour' ELSE interval '10 minutes' END,
    settings = CASE WHEN ('x' || right(dev_eui, 4))::bit(16)::int % 7 = 0 THEN '{"keepAliveTime": 15}'::jsonb ELSE '{}'::jsonb END`, [new Date(end - 1)]);
  await db.query("ANALYZE");
  const seconds = (performance.now() - start) / 1000;
  const { rows: [{ n }] } = await db.query<{ n: string }>("SELECT count(*) AS n FROM readings");
  console.log(`loaded ${days} days in ${seconds.toFixed(0)} s (${(DEVICES * days * 144 / seconds).toFixed(0)} readings/s with rollups); readings now ${Number(n).toLocaleString("en")}`);
}

const scratch = await freshPostgres(SERVER, "aspm16_bench");
const { db } = scratch;
try {
  await migrate(db);
  await db.query(`INSERT INTO devices (dev_eui, name, network, first_seen)
    SELECT lpad(to_hex(d), 16, '0'), 'plug-' || d, 'ttn', $1 FROM generate_series(1, $2::int) d`, [new Date(START), DEVICES]);
  console.log(`${DEVICES} devices × ${DAYS} days of 10-minute keep-alives; median of ${RUNS} runs per query\n`);

  const results: { ms: number; rows: number }[][] = [];
  for (const round of [0, 1]) {
    await loadDays(db, round * DAYS, DAYS);
    const end = START + (round + 1) * DAYS * DAY_MS;
    const measured: { ms: number; rows: number }[] = [];
    for (const q of QUERIES) measured.push(await median(db, q.sql, q.params(end)));
    const raw = await median(db, RAW_FLEET, [new Date(end - 30 * DAY_MS), new Date(end)], 3);
    results.push([...measured, raw]);
    console.log(`\n${round === 0 ? "data as loaded" : "data doubled"} (${(round + 1) * DAYS} days):`);
    QUERIES.forEach((q, i) => console.log(`  ${q.name.padEnd(38)} ${measured[i].ms.toFixed(2).padStart(8)} ms  (${measured[i].rows} rows; goal < ${q.goalMs} ms)`));
    console.log(`  ${"baseline: fleet per day from raw readings".padEnd(38)} ${raw.ms.toFixed(0).padStart(8)} ms  (rollup is ${(raw.ms / measured[1].ms).toFixed(0)}× faster)\n`);
  }
  console.log("change when the data doubled (same 30-day range queried):");
  QUERIES.forEach((q, i) => console.log(`  ${q.name.padEnd(38)} ×${(results[1][i].ms / results[0][i].ms).toFixed(2)}`));
} finally {
  await scratch.drop();
}
