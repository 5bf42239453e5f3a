// npm run bench:fleet-reads — the console's fleet reads on PostgreSQL against fleet size: BENCH_DEVICES (1,000)
// plugs × BENCH_DAYS (30) days of hourly keep-alives, loaded a day at a time through rollup_readings (so the
// fleet summary of migration 012 is kept by its triggers, as at ingest), the first 100 plugs in an application
// of their own. Each read is timed over HTTP (buildApp on a socket) for the whole fleet and for the 100-plug
// application in the same run, beside the query shape it replaced (every plug-hour of the range) as bare SQL.
// Then the event panel with and without its index, and the ingest cost of the summary's triggers: batches of
// 25 keep-alives through the service's writeBatch (150 plugs at a 10-minute cadence) with the triggers on and
// off, in alternating rounds.
// Medians of BENCH_RUNS (9); 2 shared cores: noisy, compare within a run. TEST_DATABASE_URL names the server;
// BENCH_LOAD_ONLY=1 stops after the load and BENCH_KEEP=1 after the run, keeping the database (URL printed) for EXPLAIN.
import { performance } from "node:perf_hooks";
import { freshPostgres } from "../test/support/databases";
import { keepAliveBytes, uplinkRecord } from "../test/support/keepalives";
import { migrate } from "../webhook/db/migrate";
import { writeBatch } from "../webhook/store/batch";
import { servedApp } from "./served-app";
import { medianMs } from "./timing";

const SERVER = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DEVICES = Number(process.env.BENCH_DEVICES ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const SMALL = Math.min(100, DEVICES);
const DAY_MS = 86_400_000;
const END = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const START = END - DAYS * DAY_MS;
const iso = (ms: number) => new Date(ms).toISOString();

// Plug d draws (d % 300 + 10) W: its counter grows by that every hour. Plugs 1..100 are app-small, the rest app-large;
// a relay report and an overheating trip per plug and day for the event panels.
const LOAD_DAY = `
WITH inserted AS (
  INSERT INTO devices (dev_eui, name, application, network, first_seen, last_seen, last_keepalive_at, relay_on, relay_at)
  SELECT lpad(to_hex(d), 16, '0'), 'plug-' || d, CASE WHEN d <= $4 THEN 'app-small' ELSE 'app-large' END, 'ttn', $1::timestamptz,
    $2::timestamptz + interval '23 hours', $2::timestamptz + interval '23 hours', true, $2::timestamptz + interval '23 hours'
  FROM generate_series(1, $3::int) d
  ON CONFLICT (dev_eui) DO UPDATE SET last_seen = EXCLUDED.last_seen, last_keepalive_at = EXCLUDED.last_keepalive_at, relay_at = EXCLUDED.relay_at
  RETURNING 1
), events AS (
  INSERT INTO device_events (dev_eui, time, kind, data, network, dedup_key)
  SELECT lpad(to_hex(d), 16, '0'), $2::timestamptz + k.at, k.kind, k.data, 'ttn', 'bench:' || k.kind
  FROM generate_series(1, $3::int) d,
    (VALUES (interval '7 hours', 'relayState', '{"relayState": "ON"}'::jsonb),
            (interval '15 hours', 'overheatingEvents', '{"overheatingEvents": {"events": 1, "temperature": 71}}'::jsonb)) k(at, kind, data)
  WHERE (SELECT count(*) FROM inserted) > 0
  RETURNING 1
), readings_in AS (
  INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
  SELECT lpad(to_hex(d), 16, '0'), t, 25, (extract(epoch FROM t - $1::timestamptz) / 3600)::bigint * (d % 300 + 10),
    d % 300 + 10, 230, (d % 300 + 10) * 1000 / 230, true
  FROM generate_series(1, $3::int) d,
       generate_series($2::timestamptz, $2::timestamptz + interval '23 hours', interval '1 hour') t
  WHERE (SELECT count(*) FROM events) > 0
  RETURNING dev_eui, time
)
SELECT rollup_readings(jsonb_agg(readings_in)) FROM readings_in`;

// The query shapes the reads had before migration 012: every plug-hour of the range, each hour's local day worked out.
const OLD_PLUG_DAYS = (application: string) => `
WITH h AS MATERIALIZED (
  SELECT e.dev_eui, d.name, date_trunc('day', e.hour, $3) AS period_start, e.energy_wh
  FROM energy_hourly e JOIN devices d USING (dev_eui)
  WHERE e.hour >= $1 AND e.hour < $2::timestamptz + interval '26 hours'${application})
SELECT dev_eui, name, period_start, sum(energy_wh)::bigint AS energy_wh FROM h
WHERE period_start >= $1 AND period_start < $2 GROUP BY 1, 2, 3`;
const OLD_FLEET = (application: string) =>
  `SELECT period_start, sum(energy_wh)::bigint, count(*)::integer FROM (${OLD_PLUG_DAYS(application)}) s GROUP BY 1 ORDER BY 1`;

/** After one warm-up call. */
const median = (run: () => Promise<unknown>, runs = RUNS) => medianMs(run, runs, 1);

const scratch = await freshPostgres(SERVER, "aspm16_bench");
const db = scratch.db;
try {
  await migrate(db);
  const loadStart = performance.now();
  for (let day = 0; day < DAYS; day++) await db.query(LOAD_DAY, [iso(START), iso(START + day * DAY_MS), DEVICES, SMALL]);
  await db.query("VACUUM ANALYZE");
  if (process.env.BENCH_LOAD_ONLY) {
    console.log(`kept ${scratch.url}`);
    process.exit(0);
  }
  const summary = (await db.query<{ rows: number }>("SELECT count(*)::integer AS rows FROM fleet_energy_hourly")).rows[0].rows;
  console.log(`loaded ${DEVICES} plugs × ${DAYS} days of hourly keep-alives (${DEVICES * DAYS * 24} readings, ${summary} summary rows) ` +
    `in ${((performance.now() - loadStart) / 1000).toFixed(0)} s; PostgreSQL; median of ${RUNS}; 2 shared cores: noisy, compare within the run\n`);

  const app = await servedApp(db);
  const { get } = app;

  const zone = "Europe/Berlin";
  const month = [iso(START), iso(END)];
  const week = [iso(END - 7 * DAY_MS), iso(END)];
  const range = ([from, to]: string[]) => `from=${from}&to=${to}&tz=${zone}`;
  const smallApp = " AND d.application = 'app-small'";
  const reads: { name: string; goal: number; path: (app: string) => string; old?: (app: string) => [string, unknown[]] }[] = [
    { name: "GET /api/energy, 30 local days", goal: 100, path: (a) => `/api/energy?period=day&${range(month)}${a}`,
      old: (a) => [OLD_FLEET(a ? smallApp : ""), [...month, zone]] },
    { name: "GET /api/energy/devices, 7 local days", goal: 200, path: (a) => `/api/energy/devices?period=day&${range(week)}${a}`,
      old: (a) => [`${OLD_PLUG_DAYS(a ? smallApp : "")} ORDER BY 1, 3`, [...week, zone]] },
    { name: "GET /api/devices", goal: 200, path: () => "/api/devices" },
    { name: "CSV per local day, 30 days", goal: 500, path: (a) => `/api/export/energy.csv?period=day&${range(month)}${a}`,
      old: (a) => [`${OLD_PLUG_DAYS(a ? smallApp : "")} ORDER BY 1, 3`, [...month, zone]] },
    { name: "CSV per hour, 30 days (streamed)", goal: Infinity, path: (a) => `/api/export/energy.csv?period=hour&from=${month[0]}&to=${month[1]}${a}`,
      old: (a) => [`SELECT e.dev_eui, d.name, e.hour, e.energy_wh FROM energy_hourly e JOIN devices d USING (dev_eui) WHERE e.hour >= $1 AND e.hour < $2${a ? smallApp : ""} ORDER BY 1, 3`, month] },
  ];
  const healthz = await median(() => get("/healthz"));
  console.log(`GET /healthz (the HTTP round trip alone): ${healthz.toFixed(1)} ms\n`);
  console.log(["read", "goal ms", `${DEVICES} plugs ms`, `${SMALL}-plug app ms`, "fleet / app", "answer KiB (fleet)", `old shape SQL ${DEVICES} / ${SMALL} ms`].join(" | "));
  for (const r of reads) {
    // /api/devices has no application filter: the app column repeats the fleet's.
    const appQuery = r.path("") === r.path("&application=app-small") ? "" : "&application=app-small";
    const bytes = (await get(r.path(""))).byteLength;
    // The hourly CSV of the fleet takes seconds: fewer runs of it.
    const runs = r.goal === Infinity ? 3 : RUNS;
    const fleet = await median(() => get(r.path("")), runs);
    const small = await median(() => get(r.path(appQuery)), runs);
    let old = "";
    if (r.old) {
      const [fleetSql, params] = r.old("");
      const [smallSql] = r.old(appQuery);
      old = `${(await median(() => db.query(fleetSql, params), 3)).toFixed(0)} / ${(await median(() => db.query(smallSql, params), 3)).toFixed(0)}`;
    }
    const verdict = fleet <= r.goal ? "" : " (over)";
    console.log([r.name, r.goal === Infinity ? "-" : r.goal, `${fleet.toFixed(1)}${verdict}`, small.toFixed(1), (fleet / small).toFixed(2),
      (bytes / 1024).toFixed(0), old].join(" | "));
  }

  // The event panel of one plug: with the index of migration 012, and without it (dropped and made again).
  const plug = (DEVICES >> 1).toString(16).padStart(16, "0");
  const events = `/api/devices/${plug}/events?from=${month[0]}&to=${month[1]}`;
  const withIndex = await median(() => get(events));
  await db.query("DROP INDEX device_events_device_kind_time");
  const withoutIndex = await median(() => get(events));
  await db.query("CREATE INDEX device_events_device_kind_time ON device_events (dev_eui, kind, time)");
  const eventRows = (await db.query<{ n: number }>("SELECT count(*)::integer AS n FROM device_events")).rows[0].n;
  console.log(`\nGET /api/devices/{devEui}/events, 30 days of one plug among ${eventRows} events: ${withIndex.toFixed(1)} ms with the index, ${withoutIndex.toFixed(1)} ms without`);
  await app.close();

  // Ingest: batches of 25 keep-alives (25 plugs, the next hour of each) through writeBatch, triggers on / off.
  const triggers = ["fleet_energy_inserted", "fleet_energy_updated", "fleet_energy_deleted"];
  const setTriggers = (on: boolean) => Promise.all(triggers.map((t) => db.query(`ALTER TABLE readings_hourly ${on ? "ENABLE" : "DISABLE"} TRIGGER ${t}`)));
  let hour = END;
  const BATCHES = 40;
  const ingestRound = async () => {
    const t0 = performance.now();
    for (let b = 0; b < BATCHES; b++) {
      // 150 plugs at the device's 10-minute cadence, 25 a batch: one keep-alive in six starts a new hour.
      hour += 100_000;
      const batch = Array.from({ length: 25 }, (_, i) => {
        const d = 1 + (b % 6) * 25 + i;
        const time = iso(hour);
        const energyWh = Math.floor((hour - START) / 600_000) * (d % 300 + 10);
        return { ...uplinkRecord(d.toString(16).padStart(16, "0"), time, keepAliveBytes({ time, energyWh })), application: d <= SMALL ? "app-small" : "app-large" };
      });
      await db.transaction((tx) => writeBatch(tx, batch));
    }
    return (performance.now() - t0) / BATCHES;
  };
  const on: number[] = [], off: number[] = [];
  for (let round = 0; round < 6; round++) {
    await setTriggers(round % 2 === 1);
    (round % 2 === 1 ? on : off).push(await ingestRound());
  }
  await setTriggers(true);
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(`\ningest, batches of 25 keep-alives through writeBatch (alternating rounds of ${BATCHES}): ` +
    `${med(on).toFixed(2)} ms per batch with the summary's triggers, ${med(off).toFixed(2)} ms without (${((med(on) / med(off) - 1) * 100).toFixed(0)} %)`);
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${scratch.url}`);
  else await scratch.drop();
}
