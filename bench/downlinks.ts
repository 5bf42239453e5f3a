// npm run bench:downlinks — does sending downlinks hold up ingest? The service runs as its own process on
// PGlite (or on a fresh database of TEST_DATABASE_URL's PostgreSQL when set) with TTS_API_URL pointing at a stand-in TTS in this process that answers each push after
// BENCH_PUSH_MS (200) ms. In alternating rounds autocannon sends TTS keep-alives (a) with the sender idle,
// the same-run baseline, and (b) while BENCH_DOWNLINKS (500) downlinks are POSTed at once and pushed. Prints
// the ingest rate and p50/p99 of each, the ratio (b)/(a), how fast the API took downlinks (POST answers and
// pushes per second), and checks every 2xx downlink reached the stand-in.
// BENCH_UPLINKS (3000) per run, BENCH_ROUNDS (3), BENCH_CONNECTIONS (20).
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { freshPostgres, type TestDatabase } from "../test/support/databases";
import { startScript, waitUntilOk } from "../test/support/process";
import { devEuiOf, PLUGS, uplinkBody } from "./bodies";
import { cannon, type CannonRun } from "./cannon";
import { slowTts } from "./slow-tts";

const UPLINKS = Number(process.env.BENCH_UPLINKS ?? 3000);
const DOWNLINKS = Number(process.env.BENCH_DOWNLINKS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const PUSH_MS = Number(process.env.BENCH_PUSH_MS ?? 200);
const TOKEN = randomBytes(16).toString("hex");
const API_TOKEN = randomBytes(16).toString("hex");
const TAG = randomBytes(3).toString("hex");
const PORT = 18941;
const URL_BASE = `http://127.0.0.1:${PORT}`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fixed = (value: number, digits = 0, width = 7) => value.toFixed(digits).padStart(width);

const tts = await slowTts(PUSH_MS);

const dataDir = await mkdtemp(join(tmpdir(), "aspm16-bench-downlinks-"));
const postgres: TestDatabase | undefined = process.env.TEST_DATABASE_URL ? await freshPostgres(process.env.TEST_DATABASE_URL, "aspm16_bench") : undefined;
const where = postgres ? `PostgreSQL (${new URL(postgres.url!).host})` : "PGlite";
const service = startScript("webhook/main.ts", {
  PORT: String(PORT), HOST: "127.0.0.1", DATABASE_URL: postgres?.url ?? "", DATA_DIR: dataDir, WEBHOOK_TOKENS: TOKEN, API_TOKENS: API_TOKEN,
  LOG_LEVEL: "error", TTS_API_URL: tts.url, TTS_API_KEY: "NNSXS.BENCH", TTS_WEBHOOK_ID: "bench",
});

const ingest = (first: number, amount: number) => cannon(`${URL_BASE}/ttn`, {
  connections: CONNECTIONS, amount, first, body: (n) => uplinkBody(n, TAG), headers: { authorization: `Bearer ${TOKEN}` },
});

/** POSTs `amount` relay downlinks, one per plug, at once; resolves with the answers' statistics. */
async function postDownlinks(amount: number): Promise<{ ok: number; seconds: number; p50: number; p99: number }> {
  let n = 0;
  const result = await autocannon({
    url: URL_BASE,
    connections: CONNECTIONS,
    amount,
    requests: [{
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      setupRequest: (request) => ({ ...request, path: `/api/devices/${devEuiOf(n++ % PLUGS)}/downlinks`, body: JSON.stringify({ data: { setRelayState: n % 2 } }) }),
    }],
  });
  return { ok: result["2xx"], seconds: result.duration, p50: result.latency.p50, p99: result.latency.p99 };
}

let failed = false;
try {
  await waitUntilOk(`${URL_BASE}/readyz`, 60);
  // Warm-up: every plug's device row (the downlinks need known plugs), JIT, the database.
  await ingest(0, PLUGS);
  console.log(`service on ${where} (own process), stand-in TTS answering each push after ${PUSH_MS} ms; ${CONNECTIONS} connections;`);
  console.log(`${UPLINKS} keep-alives per run, ${DOWNLINKS} downlinks POSTed at once in each loaded run; 2 cores shared with other work: noisy\n`);
  const idle: CannonRun[] = [];
  const loaded: CannonRun[] = [];
  const downlinkRates: { post: number; push: number }[] = [];
  let posted = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    idle.push(await ingest(round * 1_000_000, UPLINKS));
    const pushedBefore = tts.pushes();
    const start = performance.now();
    const [uplinks, downlinks] = await Promise.all([ingest(round * 1_000_000 + 500_000, UPLINKS), postDownlinks(DOWNLINKS)]);
    posted += downlinks.ok;
    while (tts.pushes() - pushedBefore < downlinks.ok && performance.now() - start < 120_000) await new Promise((r) => setTimeout(r, 20));
    const pushSeconds = (performance.now() - start) / 1000;
    loaded.push(uplinks);
    downlinkRates.push({ post: downlinks.ok / downlinks.seconds, push: (tts.pushes() - pushedBefore) / pushSeconds });
    const a = idle.at(-1)!;
    console.log(`round ${round}  ingest idle   ${fixed(a.rate)} 2xx/s  p50 ${fixed(a.p50, 0, 3)} ms  p99 ${fixed(a.p99, 0, 4)} ms`);
    console.log(`         ingest loaded ${fixed(uplinks.rate)} 2xx/s  p50 ${fixed(uplinks.p50, 0, 3)} ms  p99 ${fixed(uplinks.p99, 0, 4)} ms  ` +
      `(downlinks: ${downlinks.ok} answered 202 at ${fixed(downlinks.ok / downlinks.seconds)} /s, p50 ${downlinks.p50} ms, p99 ${downlinks.p99} ms; ` +
      `${tts.pushes() - pushedBefore} pushed in ${pushSeconds.toFixed(1)} s)`);
  }
  const ratios = loaded.map((l, i) => l.rate / idle[i].rate);
  console.log(`\nmedians over ${ROUNDS} rounds: ingest idle ${fixed(median(idle.map((r) => r.rate)))} 2xx/s, while sending downlinks ` +
    `${fixed(median(loaded.map((r) => r.rate)))} 2xx/s; same-round ratio ${median(ratios).toFixed(3)}; p99 ${median(idle.map((r) => r.p99))} → ${median(loaded.map((r) => r.p99))} ms`);
  console.log(`downlinks: ${fixed(median(downlinkRates.map((r) => r.post)))} POST/s answered, ${fixed(median(downlinkRates.map((r) => r.push)))} pushes/s to the stand-in`);
  const notOk = [...idle, ...loaded].reduce((sum, r) => sum + (r.ok < UPLINKS ? UPLINKS - r.ok : 0), 0);
  const delivered = tts.pushes() === posted;
  console.log(`every 202 downlink pushed once: ${delivered ? "yes" : `NO (${tts.pushes()} pushes for ${posted} downlinks)`}; uplinks not answered 2xx: ${notOk}`);
  failed = !delivered || notOk > 0;
} finally {
  service.kill("SIGTERM");
  if (service.exitCode === null) await once(service, "exit");
  tts.close();
  await postgres?.drop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
