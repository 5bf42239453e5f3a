// npm run bench:front — what the front of the service costs and how fast it turns hostile clients away, against
// build/main.js on a fresh PGlite DATA_DIR (run `npm run build` first), interleaved with baselines of the same run:
// 1. the protobuf wire bound (checkWire) beside google-protobuf's own decoding, per real body of each event type;
// 2. the time to answer issue 21's 6-byte body, beside a real protobuf uplink;
// 3. the 401 of a tokenless request whose 100,000-byte body trickles, beside a JSON uplink with a token;
// 4. the time to 408 a trickling body (BODY_TIMEOUT_MS) and trickling headers (HEADERS_TIMEOUT_MS).
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { chirpstackEventProtobuf, TOKEN, ttsUplink, unique } from "../test/support/messages";
import { startProgram, waitUntilOk } from "../test/support/process";

const require = createRequire(import.meta.url);
const integration = require("@chirpstack/chirpstack-api/integration/integration_pb.js") as Record<string, { deserializeBinary(b: Uint8Array): unknown }>;
const EVENTS = ["up", "join", "ack", "txack", "log", "status", "location"] as const;
const CLASSES = { up: "UplinkEvent", join: "JoinEvent", ack: "AckEvent", txack: "TxAckEvent", log: "LogEvent", status: "StatusEvent", location: "LocationEvent" };
const HEADERS_TIMEOUT_MS = 2000;
const BODY_TIMEOUT_MS = 5000;
const ROUNDS = 30;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

/**
 * The bound as production runs it: bundled by esbuild like build/main.js. Under tsx every nested function
 * is wrapped to keep its name, which alone costs about 5 µs a call here.
 */
async function loadBound(dir: string): Promise<typeof import("../webhook/ingest/protobuf-wire")> {
  const outfile = join(dir, "protobuf-wire.mjs");
  await build({ entryPoints: ["webhook/ingest/protobuf-wire.ts"], outfile, format: "esm", bundle: true, logLevel: "error" });
  return import(pathToFileURL(outfile).href);
}

async function decodeCost(dir: string): Promise<void> {
  const { CHIRPSTACK_WIRE, checkWire } = await loadBound(dir);
  console.log("1. per body, median of 15 rounds of 20,000 decodes, interleaved (µs per body)");
  for (const event of EVENTS) {
    const body = chirpstackEventProtobuf(event, "70b3d52dd30f0001", "bench-id");
    const type = integration[CLASSES[event]];
    const [alone, checked, check]: number[][] = [[], [], []];
    for (let round = 0; round < 15; round++) {
      let t = performance.now();
      for (let i = 0; i < 20_000; i++) type.deserializeBinary(body);
      alone.push((performance.now() - t) * 1000 / 20_000);
      t = performance.now();
      for (let i = 0; i < 20_000; i++) { checkWire(body, CHIRPSTACK_WIRE[event]); type.deserializeBinary(body); }
      checked.push((performance.now() - t) * 1000 / 20_000);
      t = performance.now();
      for (let i = 0; i < 20_000; i++) checkWire(body, CHIRPSTACK_WIRE[event]);
      check.push((performance.now() - t) * 1000 / 20_000);
    }
    console.log(`   ${event.padEnd(8)} ${String(body.length).padStart(4)} B  google-protobuf alone ${median(alone).toFixed(2)}  bound + google-protobuf ${median(checked).toFixed(2)}  bound alone ${median(check).toFixed(2)}`);
  }
}

/** Milliseconds until the first answer on a raw connection, its status, and until it closed. */
function rawRequest(port: number, head: string, trickleMs: number, byte = " "): Promise<{ status: number; answered: number; closed: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const start = performance.now();
    let status = 0;
    let answered = 0;
    socket.on("error", () => {});
    socket.once("data", (chunk) => { status = Number(String(chunk).slice(9, 12)); answered = performance.now() - start; });
    const timer = setInterval(() => socket.writable && socket.write(byte), trickleMs);
    socket.on("close", () => { clearInterval(timer); resolve({ status, answered, closed: performance.now() - start }); });
    socket.write(head);
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "aspm16-bench-front-"));
  await decodeCost(dir);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = startProgram("main", {
    DATA_DIR: dir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "error", WEBHOOK_TOKENS: TOKEN, DATABASE_URL: "",
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), RATE_LIMIT_UNAUTHENTICATED: "1000000",
  }, ["ignore", "ignore", "inherit"]);
  try {
    await waitUntilOk(`http://127.0.0.1:${port}/healthz`, 60);
    const post = async (path: string, body: Uint8Array | string, type: string, token = true) => {
      const start = performance.now();
      const answer = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: "POST", body, headers: { "content-type": type, ...(token ? { authorization: `Bearer ${TOKEN}` } : {}) }, signal: AbortSignal.timeout(5000),
      });
      await answer.arrayBuffer();
      return { status: answer.status, ms: performance.now() - start };
    };

    const spin: number[] = [];
    const real: number[] = [];
    const statuses = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const event of EVENTS) {
        const a = await post(`/chirpstack?event=${event}`, Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), "application/octet-stream");
        statuses.add(a.status);
        spin.push(a.ms);
      }
      real.push((await post("/chirpstack?event=up", chirpstackEventProtobuf("up", "70b3d52dd30f0002", unique()), "application/octet-stream")).ms);
    }
    console.log(`2. issue 21's 6 bytes, ${spin.length} posts over the 7 events: answered ${[...statuses].join(",")} in median ${fmt(median(spin))}, max ${fmt(max(spin))}; a real protobuf uplink (stored): median ${fmt(median(real))}`);

    const tokenless: number[] = [];
    const tokenlessClosed: number[] = [];
    const uplink: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = await rawRequest(port, "POST /ttn HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", 1000);
      if (r.status !== 401) throw new Error(`a tokenless request was answered ${r.status}`);
      tokenless.push(r.answered);
      tokenlessClosed.push(r.closed);
      uplink.push((await post("/ttn", JSON.stringify(ttsUplink({ devEui: "70b3d52dd30f0003", id: unique() })), "application/json")).ms);
    }
    console.log(`3. tokenless request with a trickling 100,000-byte body: 401 in median ${fmt(median(tokenless))} (max ${fmt(max(tokenless))}), closed in median ${fmt(median(tokenlessClosed))}; a JSON uplink with a token (stored): median ${fmt(median(uplink))}`);

    const slowBodies = await Promise.all(Array.from({ length: 5 }, () =>
      rawRequest(port, `POST /ttn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`, 1000)));
    const slowHeaders = await Promise.all(Array.from({ length: 5 }, () => rawRequest(port, "POST /ttn HTTP/1.1\r\n", 500, "X-Slow: 1\r\n")));
    const show = (rs: { status: number; answered: number; closed: number }[]) =>
      `${[...new Set(rs.map((r) => r.status))].join(",")} after ${rs.map((r) => Math.round(r.answered)).join(", ")} ms, closed by ${fmt(max(rs.map((r) => r.closed)))}`;
    console.log(`4. body trickling a byte a second, BODY_TIMEOUT_MS=${BODY_TIMEOUT_MS}: ${show(slowBodies)}`);
    console.log(`   headers trickling a line every 500 ms, HEADERS_TIMEOUT_MS=${HEADERS_TIMEOUT_MS}: ${show(slowHeaders)}`);
  } finally {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
