// npm run bench:bulk — does a bulk keep-alive PUT hold up ingest? The service runs as its own process on
// PGlite (or on a fresh database of TEST_DATABASE_URL's PostgreSQL when set), with TTS_API_URL pointing at a
// stand-in TTS in this process that answers each push after BENCH_PUSH_MS (50) ms. BENCH_PLUGS (10,000) plugs
// are made known by one uplink each. Then, in alternating rounds, an open-loop trickle of keep-alives
// (BENCH_RATE, 50 a second, each on its own schedule whatever the answers do) runs for BENCH_SECONDS (20) s
// (a) alone, the same-run baseline, and (b) while `PUT /api/keepalive` sets a period on every plug.
// Prints each run's ingest latency (p50, p99, max) and /healthz's, and when the PUT was answered.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshPostgres, type TestDatabase } from "../test/support/databases";
import { keepAliveBytes } from "../test/support/keepalives";
import { ttsUplink } from "../test/support/messages";
import { startScript, waitUntilOk } from "../test/support/process";
import { percentile } from "./load";
import { slowTts } from "./slow-tts";

const PLUGS = Number(process.env.BENCH_PLUGS ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PUSH_MS = Number(process.env.BENCH_PUSH_MS ?? 50);
const TOKEN = randomBytes(16).toString("hex");
const API_TOKEN = randomBytes(16).toString("hex");
const TAG = randomBytes(3).toString("hex");
const PORT = 18000 + Math.floor(Math.random() * 2000);
const BASE = `http://127.0.0.1:${PORT}`;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const devEuiOf = (n: number) => `70b3d52dd4${(n % PLUGS).toString(16).padStart(6, "0")}`;
let sequence = 0;
function uplinkBody(plug: number): string {
  const n = sequence++;
  return JSON.stringify(ttsUplink({
    devEui: devEuiOf(plug), id: `bulk-${TAG}-${n}`, fCnt: n, time: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
    payload: Buffer.from(keepAliveBytes({ time: "", energyWh: n, powerW: 100 })).toString("base64"),
  }));
}

/** One request; resolves with its status and milliseconds. */
function call(method: string, path: string, body: string | undefined, token: string): Promise<{ status: number; ms: number; text: string }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const request = httpRequest(`${BASE}${path}`, {
      agent, method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}) },
    }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - start, text }));
    });
    request.on("error", () => resolve({ status: 0, ms: performance.now() - start, text: "" }));
    request.end(body);
  });
}

/** Open loop: RATE uplinks a second and a /healthz every 250 ms for `seconds`; every latency. */
async function trickle(seconds: number): Promise<{ uplinks: number[]; health: number[]; failed: number }> {
  const uplinks: number[] = [];
  const health: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; performance.now() - start < seconds * 1000; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(call("POST", "/ttn", uplinkBody(i * 7919), TOKEN).then((r) => {
      uplinks.push(r.ms);
      if (r.status < 200 || r.status >= 300) failed++;
    }));
    if (i % Math.max(1, Math.round(RATE / 4)) === 0) pending.push(fetch(`${BASE}/healthz`).then(() => undefined).then(() => void health.push(performance.now() - due), () => void health.push(Infinity)));
  }
  await Promise.all(pending);
  return { uplinks, health, failed };
}

const tts = await slowTts(PUSH_MS);
const dataDir = await mkdtemp(join(tmpdir(), "aspm16-bench-bulk-"));
const postgres: TestDatabase | undefined = process.env.TEST_DATABASE_URL ? await freshPostgres(process.env.TEST_DATABASE_URL, "aspm16_bench") : undefined;
const service = startScript("webhook/main.ts", {
  PORT: String(PORT), HOST: "127.0.0.1", DATABASE_URL: postgres?.url ?? "", DATA_DIR: dataDir, WEBHOOK_TOKENS: TOKEN, API_TOKENS: API_TOKEN,
  LOG_LEVEL: "error", TTS_API_URL: tts.url, TTS_API_KEY: "NNSXS.BENCH", TTS_WEBHOOK_ID: "bench",
});

const f = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : "no answer").padStart(9);
const line = (what: string, r: { uplinks: number[]; health: number[]; failed: number }) =>
  `${what}  uplinks p50 ${f(percentile(r.uplinks, 50))} p99 ${f(percentile(r.uplinks, 99))} max ${f(Math.max(...r.uplinks))}` +
  `  /healthz p99 ${f(percentile(r.health, 99))} max ${f(Math.max(...r.health))}  (${r.uplinks.length} uplinks, ${r.failed} not 2xx)`;

let failed = false;
try {
  await waitUntilOk(`${BASE}/readyz`, 120);
  // Every plug known (one uplink each), 20 at a time.
  for (let plug = 0; plug < PLUGS; plug += 20) {
    await Promise.all(Array.from({ length: Math.min(20, PLUGS - plug) }, (_, i) => call("POST", "/ttn", uplinkBody(plug + i), TOKEN)));
  }
  console.log(`service on ${postgres ? "PostgreSQL" : "PGlite"} (own process); ${PLUGS} plugs; ingest ${RATE} uplinks/s open loop for ${SECONDS} s per run;`);
  console.log(`stand-in TTS answers each push after ${PUSH_MS} ms; 2 cores shared with other work: noisy\n`);
  for (let round = 1; round <= ROUNDS; round++) {
    const idle = await trickle(SECONDS);
    console.log(`round ${round} idle     ${line("", idle)}`);
    const pushedBefore = tts.pushes();
    const putStart = performance.now();
    const put = call("PUT", "/api/keepalive", JSON.stringify({ minutes: 10 + round, devices: Array.from({ length: PLUGS }, (_, i) => devEuiOf(i)) }), API_TOKEN)
      .then((r) => ({ ...r, at: performance.now() - putStart }));
    const loaded = await trickle(SECONDS);
    const answer = await put;
    console.log(`round ${round} bulk PUT ${line("", loaded)}`);
    const results = (JSON.parse(answer.text || "{}") as { results?: { status: number }[] }).results ?? [];
    const statuses: Record<number, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    console.log(`          PUT answered ${answer.status} after ${(answer.at / 1000).toFixed(1)} s, results ${JSON.stringify(statuses)}; ${tts.pushes() - pushedBefore} pushes so far`);
    failed ||= idle.failed + loaded.failed > 0;
  }
} finally {
  service.kill("SIGTERM");
  if (service.exitCode === null) await once(service, "exit");
  tts.close();
  agent.destroy();
  await postgres?.drop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
