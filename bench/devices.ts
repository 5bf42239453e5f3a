// npm run bench:devices — the management API's device reads on a synthetic fleet in real PostgreSQL: BENCH_DEVICES
// plugs (1,000) with BENCH_UPLINKS uplinks (30) each at mixed spreading factors, a latest reading, and a desired period for every
// other plug. Times the device object query (GET /api/devices's read model), one device, the device_keepalive
// view and the reconciler's pass query, beside the plain device_status view measured in the same run.
import { freshPostgres } from "../test/support/databases";
import { getDevice, listDevices } from "../webhook/api/devices";
import type { Database } from "../webhook/db/database";
import { migrate } from "../webhook/db/migrate";
import { adaptiveCandidates } from "../webhook/keepalive/adaptive-store";
import { roundsToReconcile } from "../webhook/keepalive/store";
import { medianMs } from "./timing";

const SERVER = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DEVICES = Number(process.env.BENCH_DEVICES ?? 1000);
const UPLINKS = Number(process.env.BENCH_UPLINKS ?? 30);
const RUNS = 25;

// Each plug's uplinks in the last UPLINKS × 10 minutes at SF7..12 by device and time; its last one a keep-alive.
const LOAD = `
WITH d AS (SELECT n, lpad(to_hex(n), 16, '0') AS dev_eui FROM generate_series(1, $1::int) n),
devices AS (
  INSERT INTO devices (dev_eui, name, application, network, first_seen, last_seen, last_keepalive_at, relay_on, settings)
  SELECT dev_eui, 'plug-' || n, 'app-' || n % 10, CASE WHEN n % 3 = 0 THEN 'chirpstack' ELSE 'ttn' END, now() - interval '1 day',
    now() - interval '1 minute', now() - interval '1 minute', true,
    CASE WHEN n % 4 = 0 THEN '{"keepAliveTime": 15}'::jsonb ELSE '{}'::jsonb END
  FROM d RETURNING dev_eui
), uplinks AS (
  INSERT INTO uplinks (dev_eui, received_at, dedup_key, network, f_cnt, f_port, payload, spreading_factor, bandwidth_hz)
  SELECT d.dev_eui, now() - interval '1 minute' - u * interval '10 minutes', 'bench:' || d.n || ':' || u, 'ttn', u, 2,
    '\\x011c034a241805d9e7195201'::bytea, 7 + (d.n + u) % 6, 125000
  FROM d CROSS JOIN generate_series(0, $2::int - 1) u RETURNING 1
)
INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
SELECT dev_eui, now() - interval '1 minute', 28, 55190552, 1497, 231, 6482, true FROM d`;

const DESIRED = `
INSERT INTO keepalive_desired (dev_eui, minutes, requested_at, attempts, last_downlink_at, next_attempt_at)
SELECT dev_eui, 15, now() - interval '1 hour', 1, now() - interval '1 hour', now() + interval '1 hour'
FROM devices WHERE ('x' || right(dev_eui, 4))::bit(16)::int % 2 = 0`;

const median = (run: () => Promise<unknown>) => medianMs(run, RUNS);

const scratch = await freshPostgres(SERVER, "aspm16_bench");
const db: Database = scratch.db;
try {
  await migrate(db);
  await db.transaction(async (tx) => {
    await tx.query(LOAD, [DEVICES, UPLINKS]);
    await tx.query(DESIRED);
  });
  await db.query("ANALYZE");
  const middle = (DEVICES >> 1).toString(16).padStart(16, "0");
  console.log(`${DEVICES} devices × ${UPLINKS} uplinks, half with a desired period; median of ${RUNS} runs (2 shared cores: noisy, compare ratios)\n`);
  const baseline = await median(() => db.query("SELECT * FROM device_status ORDER BY dev_eui"));
  const rows: [string, number][] = [
    ["listDevices (GET /api/devices read model)", await median(() => listDevices(db))],
    ["getDevice (one device)", await median(() => getDevice(db, middle))],
    ["SELECT * FROM device_keepalive", await median(() => db.query("SELECT * FROM device_keepalive ORDER BY dev_eui"))],
    ["roundsToReconcile (one reconciler pass, nothing due)", await median(() => roundsToReconcile(db, new Date()))],
    ["uplink_airtime_seconds, every device (its last day)", await median(() => db.query("SELECT dev_eui, uplink_airtime_seconds(dev_eui, now() - interval '1 day', now()) FROM devices"))],
  ];
  // Adaptive mode's pass at its worst: every plug with a desired period adaptive and heard since it was judged.
  await db.query("UPDATE keepalive_desired SET mode = 'adaptive', target = 10, judged_at = NULL");
  rows.push(["adaptiveCandidates (adaptive pass, all judged again)", await median(() => adaptiveCandidates(db, new Date()))]);
  console.log(`  ${"baseline: SELECT * FROM device_status".padEnd(54)} ${baseline.toFixed(2).padStart(8)} ms`);
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(54)} ${ms.toFixed(2).padStart(8)} ms  ×${(ms / baseline).toFixed(2)} of baseline`);
} finally {
  await scratch.drop();
}
