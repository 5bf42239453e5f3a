// npm run bench:ingest — the real service on real PostgreSQL against a do-nothing Fastify endpoint,
// both as their own processes, each loaded with distinct TTS uplinks at 50 concurrent connections.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { load, type LoadResult, percentile } from "./load";
import { freshPostgres } from "../test/support/databases";
import { startScript, waitUntilOk } from "../test/support/process";
import { ttsUplink } from "../test/support/messages";

const SERVER = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const TOKEN = randomBytes(16).toString("hex");
const PORT_SERVICE = 18931;
const PORT_NOOP = 18932;

/** Distinct uplinks: 1,000 devices, each uplink with its own message id, counter and time. */
function uplink(n: number): string {
  const devEui = (0x70b3d52dd3000000 + (n % 1000)).toString(16);
  const body = ttsUplink({ devEui: devEui.padStart(16, "0"), id: `bench-${n}-${TOKEN}`, fCnt: n, time: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString() });
  return JSON.stringify(body);
}

function report(name: string, r: LoadResult): void {
  console.log(`${name.padEnd(28)} ${r.ok.toString().padStart(7)} 2xx  ${r.failed.toString().padStart(5)} failed  ` +
    `${(r.ok / r.seconds).toFixed(0).padStart(6)} req/s  p50 ${percentile(r.latenciesMs, 50).toFixed(1)} ms  p99 ${percentile(r.latenciesMs, 99).toFixed(1)} ms`);
}

const scratch = await freshPostgres(SERVER, "aspm16_bench");
const url = new URL(scratch.url!);
const children: ChildProcess[] = [];
try {
  children.push(startScript("webhook/main.ts", { DATABASE_URL: url.toString(), PORT: String(PORT_SERVICE), HOST: "127.0.0.1", WEBHOOK_TOKENS: TOKEN, LOG_LEVEL: "warn" }));
  children.push(startScript("bench/noop-server.ts", { PORT: String(PORT_NOOP) }));
  await waitUntilOk(`http://127.0.0.1:${PORT_SERVICE}/readyz`);
  await waitUntilOk(`http://127.0.0.1:${PORT_NOOP}/readyz`);
  const headers = { authorization: `Bearer ${TOKEN}` };
  console.log(`${CONNECTIONS} connections, ${SECONDS} s each, distinct uplinks; PostgreSQL ${url.host}, load generator on the same cores\n`);

  // A short warm-up of each, then the measured runs.
  await load(`http://127.0.0.1:${PORT_NOOP}/ttn`, CONNECTIONS, 2, (n) => uplink(1e7 + n), headers);
  await load(`http://127.0.0.1:${PORT_SERVICE}/ttn`, CONNECTIONS, 2, (n) => uplink(2e7 + n), headers);
  const { db } = scratch;
  const before = Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM uplinks")).rows[0].n);

  const noop = await load(`http://127.0.0.1:${PORT_NOOP}/ttn`, CONNECTIONS, SECONDS, uplink, headers);
  const real = await load(`http://127.0.0.1:${PORT_SERVICE}/ttn`, CONNECTIONS, SECONDS, uplink, headers);
  const stored = Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM uplinks")).rows[0].n) - before;
  const readings = Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM readings")).rows[0].n);

  report("do-nothing Fastify endpoint", noop);
  report("webhook on PostgreSQL", real);
  console.log(`\nuplinks stored per second: ${(stored / real.seconds).toFixed(0)}`);
  console.log(`ratio to the do-nothing endpoint: ${((real.ok / real.seconds) / (noop.ok / noop.seconds) * 100).toFixed(1)}%`);
  console.log(`rows stored ${stored} = 2xx answers ${real.ok}: ${stored === real.ok ? "yes" : "NO"}  (readings in total: ${readings})`);
  if (stored !== real.ok) process.exitCode = 1;
} finally {
  for (const child of children) {
    child.kill("SIGTERM");
    if (child.exitCode === null) await once(child, "exit");
  }
  await scratch.drop();
}
