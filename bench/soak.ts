// npm run bench:soak — the service as its own process on real PostgreSQL, behind a TCP proxy, under a
// sustained load; in the middle third of the run the proxy cuts the database off. Prints what was
// sent, acknowledged, stored and lost (must be 0), and how deep the spool got.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshPostgres } from "../test/support/databases";
import { startScript, waitUntilOk } from "../test/support/process";
import { ttsUplink } from "../test/support/messages";
import { TcpProxy } from "../test/support/tcp-proxy";
import { load, percentile } from "./load";

const SERVER = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CONNECTIONS = 20;
const TOKEN = randomBytes(16).toString("hex");
const PORT = 18933;
const base = `http://127.0.0.1:${PORT}`;
const tag = `soak-${randomBytes(4).toString("hex")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const uplink = (n: number) => JSON.stringify(ttsUplink({
  devEui: (0x70b3d52dd3100000 + (n % 1000)).toString(16).padStart(16, "0"),
  id: `${tag}-${n}`, fCnt: n, time: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
}));

async function spoolDepth(): Promise<number> {
  const body = await (await fetch(`${base}/readyz`)).json() as { spool: { records: number } };
  return body.spool.records;
}

/** The service's counters, summed over their labels: uplinks stored on arrival, spooled, replayed from the spool. */
async function counters(): Promise<{ stored: number; spooled: number; replayed: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
  return { stored: sum("webhook_uplinks_stored_total"), spooled: sum("webhook_spooled_total"), replayed: sum("webhook_replayed_total") };
}

const scratch = await freshPostgres(SERVER, "aspm16_bench");
const proxy = await TcpProxy.start("127.0.0.1", Number(new URL(SERVER).port || 5432));
const dataDir = await mkdtemp(join(tmpdir(), "aspm16-soak-"));
const service = startScript("webhook/main.ts", {
  DATABASE_URL: proxy.url(scratch.url!), DATA_DIR: dataDir, PORT: String(PORT), HOST: "127.0.0.1", WEBHOOK_TOKENS: TOKEN, LOG_LEVEL: "fatal",
});
try {
  // The service migrates the new database itself before it listens.
  await waitUntilOk(`${base}/readyz`);
  console.log(`${CONNECTIONS} connections for ${SECONDS} s, distinct TTS uplinks of 1,000 devices; the database is cut off from ${(SECONDS / 3).toFixed(0)} s to ${(2 * SECONDS / 3).toFixed(0)} s\n`);

  const controller = new AbortController();
  const running = load(`${base}/ttn`, CONNECTIONS, controller.signal, uplink, { authorization: `Bearer ${TOKEN}` });
  let peak = 0;
  const sampler = setInterval(() => void spoolDepth().then((d) => (peak = Math.max(peak, d)), () => {}), 100);
  // Once a second: what went to the database directly, to the spool, and back out of it.
  const timeline: string[] = [];
  let last = await counters();
  const ticker = setInterval(() => void counters().then((now) => {
    timeline.push(`${timeline.length + 1}s: ${now.stored - last.stored}/${now.spooled - last.spooled}/${now.replayed - last.replayed}`);
    last = now;
  }, () => {}), 1000);
  await sleep((SECONDS / 3) * 1000);
  proxy.cut("reset");
  const cutAt = performance.now();
  await sleep((SECONDS / 3) * 1000);
  proxy.restore();
  const outage = (performance.now() - cutAt) / 1000;
  await sleep((SECONDS / 3) * 1000);
  controller.abort();
  const result = await running;
  clearInterval(ticker);

  const drainStart = performance.now();
  while ((await spoolDepth()) > 0) await sleep(100);
  const drainSeconds = (performance.now() - drainStart) / 1000;
  clearInterval(sampler);

  const { rows } = await scratch.db.query<{ key: string; copies: number }>(
    "SELECT dedup_key AS key, count(*)::int AS copies FROM uplinks WHERE dedup_key LIKE $1 GROUP BY dedup_key", [`tts:as:up:${tag}-%`]);
  const copies = new Map(rows.map((r) => [r.key, r.copies]));
  const lost = result.acked.filter((n) => !copies.has(`tts:as:up:${tag}-${n}`)).length;
  const duplicated = rows.filter((r) => r.copies > 1).length;

  console.log(`uplinks sent          ${result.sent}`);
  console.log(`acknowledged (2xx)    ${result.ok}  (200 stored: ${result.statuses[200] ?? 0}, 202 spooled: ${result.statuses[202] ?? 0})`);
  console.log(`not acknowledged      ${result.failed}  ${JSON.stringify(Object.fromEntries(Object.entries(result.statuses).filter(([s]) => !s.startsWith("2"))))}`);
  console.log(`stored                ${rows.length}`);
  console.log(`lost (acked, not stored) ${lost}`);
  console.log(`stored more than once ${duplicated}`);
  console.log(`spool peak depth      ${peak} records; drained ${drainSeconds.toFixed(1)} s after the load stopped (outage ${outage.toFixed(1)} s)`);
  console.log(`per second, stored directly/spooled/replayed: ${timeline.join("  ")}`);
  console.log(`throughput            ${(result.ok / result.seconds).toFixed(0)} acknowledged/s over the run; latency p50 ${percentile(result.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(result.latenciesMs, 99).toFixed(1)} ms, max ${result.latenciesMs.reduce((a, b) => Math.max(a, b), 0).toFixed(0)} ms`);
  if (lost > 0 || duplicated > 0 || result.failed > 0) process.exitCode = 1;
} finally {
  service.kill("SIGTERM");
  if (service.exitCode === null) await once(service, "exit");
  await proxy.close();
  await scratch.drop();
  await rm(dataDir, { recursive: true, force: true });
}
