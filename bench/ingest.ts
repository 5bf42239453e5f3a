// npm run bench:ingest — the service on PostgreSQL and on PGlite against a do-nothing Fastify endpoint,
// each its own process, loaded in alternating rounds by autocannon with the same TTS keep-alives of 5,000
// plugs. Prints per run the 2xx rate, p50/p99, where the CPU went and the service's transactions (size, round
// trip, time in flight); then the medians, the ratio to the do-nothing endpoint, and checks that every 2xx
// answer is a stored row and the rollups equal the readings.
// BENCH_SECONDS (10, about) per run, BENCH_ROUNDS (3), BENCH_CONNECTIONS (50); TEST_DATABASE_URL names the server.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshPostgres } from "../test/support/databases";
import { startScript, waitUntilOk } from "../test/support/process";
import { type Database, pglite, postgres, type Queryable } from "../webhook/db/database";
import { PLUGS, uplinkBody } from "./bodies";
import { cannon, type CannonRun } from "./cannon";
import { cpuMeter, postgresPids } from "./cpu";

const SERVER = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOKEN = randomBytes(16).toString("hex");
const TAG = randomBytes(3).toString("hex");
/** Request numbers of round r start at r × SPAN: every round's bodies are new to the services. */
const SPAN = 1_000_000;

interface Target {
  name: string;
  url: string;
  process: ChildProcess;
  /** The processes whose CPU is reported, by group. */
  cpuGroups: () => Promise<Record<string, number[]>>;
  runs: { run: CannonRun; cpu: Record<string, number> }[];
  /** 2xx answers over every run, warm-up included: the rows it must have stored. */
  acknowledged: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fixed = (value: number, digits = 0, width = 7) => value.toFixed(digits).padStart(width);

const scratch = await freshPostgres(SERVER, "aspm16_bench");
const databaseName = new URL(scratch.url!).pathname.slice(1);
const admin = postgres(SERVER, 1);
const dirs = { postgres: await mkdtemp(join(tmpdir(), "aspm16-bench-pg-")), pglite: await mkdtemp(join(tmpdir(), "aspm16-bench-pglite-")) };
const children: ChildProcess[] = [];

function start(name: string, script: string, port: number, env: Record<string, string>, cpuGroups: (pid: number) => () => Promise<Record<string, number[]>>): Target {
  const child = startScript(script, { PORT: String(port), HOST: "127.0.0.1", WEBHOOK_TOKENS: TOKEN, LOG_LEVEL: "warn", ...env });
  children.push(child);
  return { name, url: `http://127.0.0.1:${port}`, process: child, cpuGroups: cpuGroups(child.pid!), runs: [], acknowledged: 0 };
}

/** The service's batch transactions so far (webhook_database_seconds); the do-nothing endpoint has none. */
async function transactions(target: Target): Promise<{ count: number; seconds: number } | null> {
  if (!target.name.startsWith("service")) return null;
  const text = await (await fetch(`${target.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^webhook_database_seconds_${name} (\\S+)$`, "m").exec(text)?.[1]);
  return { count: value("count"), seconds: value("sum") };
}

async function run(target: Target, round: number, amount: number): Promise<CannonRun> {
  const before = await transactions(target);
  const stop = await cpuMeter(target.cpuGroups)();
  const result = await cannon(`${target.url}/ttn`, {
    connections: CONNECTIONS, amount, first: round * SPAN, body: (n) => uplinkBody(n, TAG), headers: { authorization: `Bearer ${TOKEN}` },
  });
  const { totals } = await stop();
  const after = await transactions(target);
  target.acknowledged += result.ok;
  if (round > 0) {
    target.runs.push({ run: result, cpu: totals });
    const split = Object.entries(totals).map(([group, s]) => `${group} ${s.toFixed(1)}`).join(", ");
    const perAnswer = (totals["service"] + (totals["PostgreSQL backends"] ?? 0)) / result.ok * 1e6;
    const others = Object.entries(result.statuses).filter(([code]) => !code.startsWith("2")).map(([code, count]) => `${count}×${code}`);
    console.log(`round ${round}  ${target.name.padEnd(24)} ${fixed(result.rate)} 2xx/s  p50 ${fixed(result.p50, 0, 3)} ms  p99 ${fixed(result.p99, 0, 4)} ms` +
      `${others.length || result.errors ? `  NOT 2xx: ${[...others, `${result.errors} errors`].join(", ")}` : ""}`);
    console.log(`         CPU-s: ${split}${target.name.startsWith("service") ? `  (service + backends: ${perAnswer.toFixed(0)} µs per uplink)` : ""}`);
    // How the writer spent the run: with a transaction in flight nearly all the time, the rate is the batches'
    // size over their round trip (database and service alike), whatever the cores have left.
    if (before && after && after.count > before.count) {
      const count = after.count - before.count;
      const seconds = after.seconds - before.seconds;
      console.log(`         transactions: ${count}, ${fixed(result.ok / count, 1, 0)} uplinks and ${fixed(seconds / count * 1000, 2, 0)} ms each, ` +
        `in flight ${fixed(seconds / result.seconds * 100, 0, 0)}% of the run`);
    }
  }
  return result;
}

/** Every 2xx answer is a stored uplink and a reading; the rollups equal the raw computation over the readings. */
async function check(target: Target, db: Queryable): Promise<boolean> {
  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0].n);
  const uplinks = await count("SELECT count(*) AS n FROM uplinks");
  const readings = await count("SELECT count(*) AS n FROM readings");
  const plugs = await count("SELECT count(*) AS n FROM devices");
  const wrongHours = await count(`
    WITH pairs AS (
      SELECT dev_eui, time, energy_wh, lag(energy_wh) OVER (PARTITION BY dev_eui ORDER BY time) AS prev FROM readings
    ), raw AS (
      SELECT dev_eui, date_trunc('hour', time, 'UTC') AS hour, count(*) AS readings,
        sum(CASE WHEN prev IS NULL THEN 0 WHEN energy_wh >= prev THEN energy_wh - prev ELSE energy_wh END) AS energy_wh
      FROM pairs GROUP BY 1, 2
    )
    SELECT count(*) AS n FROM raw FULL JOIN readings_hourly h USING (dev_eui, hour)
    WHERE raw.energy_wh IS DISTINCT FROM h.energy_wh OR raw.readings IS DISTINCT FROM h.readings`);
  const wrongDays = await count(`
    SELECT count(*) AS n FROM (SELECT dev_eui, date_trunc('day', hour, 'UTC') AS day, sum(energy_wh) AS e, sum(readings) AS r FROM readings_hourly GROUP BY 1, 2) h
    FULL JOIN readings_daily d USING (dev_eui, day) WHERE h.e IS DISTINCT FROM d.energy_wh OR h.r IS DISTINCT FROM d.readings`);
  const ok = uplinks === target.acknowledged && readings === uplinks && wrongHours === 0 && wrongDays === 0;
  console.log(`${target.name}: rows stored ${uplinks} = 2xx answers ${target.acknowledged}: ${uplinks === target.acknowledged ? "yes" : "NO"}; ` +
    `readings ${readings}, plugs ${plugs}; hours and days differing from the raw computation: ${wrongHours}, ${wrongDays}${ok ? "" : "  FAILED"}`);
  return ok;
}

async function stop(target: Target): Promise<void> {
  // Anything spooled is replayed before the count.
  for (let i = 0; i < 300; i++) {
    const body = await (await fetch(`${target.url}/readyz`)).json() as { spool?: { records: number } };
    if (!body.spool?.records) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  target.process.kill("SIGTERM");
  if (target.process.exitCode === null) await once(target.process, "exit");
}

let failed = false;
try {
  const noop = start("do-nothing endpoint", "bench/noop-server.ts", 18932, {}, (pid) => async () => ({ "do-nothing endpoint": [pid] }));
  const onPostgres = start("service on PostgreSQL", "webhook/main.ts", 18931, { DATABASE_URL: scratch.url!, DATA_DIR: dirs.postgres }, (pid) => async () => {
    const pids = await postgresPids(admin, databaseName);
    return { service: [pid], "PostgreSQL backends": pids.backends, "PostgreSQL auxiliary": pids.auxiliary };
  });
  const onPglite = start("service on PGlite", "webhook/main.ts", 18934, { DATABASE_URL: "", DATA_DIR: dirs.pglite }, (pid) => async () => ({ service: [pid] }));
  const targets = [noop, onPostgres, onPglite];
  for (const t of targets) await waitUntilOk(`${t.url}/readyz`, 60);
  console.log(`autocannon, ${CONNECTIONS} connections, about ${SECONDS} s per run, ${ROUNDS} rounds; TTS keep-alives of ${PLUGS} plugs, every body distinct;`);
  console.log(`PostgreSQL at ${new URL(SERVER).host}; everything shares this machine's cores with whatever else runs on it ("other processes")\n`);

  // Warm-up (JIT, connection pools, the plugs' device rows); its rate sizes the first round to about
  // SECONDS, later rounds are sized by the one before.
  const rate = new Map(targets.map((t) => [t, 0]));
  for (const t of targets) rate.set(t, (await run(t, 0, PLUGS)).rate);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) rate.set(t, (await run(t, round, Math.max(1000, Math.round(rate.get(t)! * SECONDS)))).rate);
  }

  console.log(`\nmedians over ${ROUNDS} rounds          2xx/s   p50 ms   p99 ms   ratio to the do-nothing endpoint (median of same-round ratios)`);
  for (const t of targets) {
    const rate = median(t.runs.map((r) => r.run.rate));
    const ratios = t.runs.map((r, i) => r.run.rate / noop.runs[i].run.rate);
    console.log(`${t.name.padEnd(30)} ${fixed(rate)}  ${fixed(median(t.runs.map((r) => r.run.p50)), 1)}  ${fixed(median(t.runs.map((r) => r.run.p99)), 1)}   ` +
      `${(rate / median(noop.runs.map((r) => r.run.rate))).toFixed(3)} (${median(ratios).toFixed(3)})`);
  }
  console.log("");

  await stop(onPostgres);
  if (!(await check(onPostgres, scratch.db))) failed = true;
  await stop(onPglite);
  const embedded: Database = await pglite(join(dirs.pglite, "pglite"));
  try {
    if (!(await check(onPglite, embedded))) failed = true;
  } finally {
    await embedded.close();
  }
} finally {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  }
  await admin.close();
  await scratch.drop();
  await Promise.all(Object.values(dirs).map((dir) => rm(dir, { recursive: true, force: true })));
}
if (failed) process.exitCode = 1;
