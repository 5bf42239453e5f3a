// Issue 21's trial, against build/main.js as its own process (PGlite), over real sockets: no body and no
// client can hold the service. A protobuf body that once spun google-protobuf for good, and random and
// mutated protobuf bodies of every event type, are answered at once while /healthz still answers; a
// request without a valid token is answered 401 at its headers and closed, its body never waited for;
// a body or headers that trickle in are answered 408 and closed after BODY_TIMEOUT_MS / HEADERS_TIMEOUT_MS.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, chirpstackEventProtobuf, TOKEN, ttsUplink, unique } from "../support/messages";
import { startProgram, waitUntilOk } from "../support/process";

const EVENTS = ["up", "join", "ack", "txack", "log", "status", "location"] as const;
const HEADERS_TIMEOUT_MS = 1000;
const BODY_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 60;
/** The 6 bytes of issue 21: field 1, a length of 2^32-1. */
const SPIN = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);

let dir: string;
let child: ChildProcess;
let port: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspm16-hostile-"));
  port = 20000 + Math.floor(Math.random() * 20000);
  child = startProgram("main", {
    DATA_DIR: dir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", WEBHOOK_TOKENS: TOKEN, API_TOKENS: API_TOKEN, DATABASE_URL: "",
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), MAX_CONNECTIONS: String(MAX_CONNECTIONS), RATE_LIMIT_UNAUTHENTICATED: "100000",
  }, ["ignore", "ignore", "inherit"]);
  await waitUntilOk(`http://127.0.0.1:${port}/healthz`, 60);
}, 90_000);
afterAll(async () => {
  child?.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

const url = (path: string) => `http://127.0.0.1:${port}${path}`;
/** A ChirpStack protobuf post, given up on after `ms`: a service that spins never answers. */
async function postProtobuf(event: string, body: Uint8Array, ms = 2000): Promise<{ status: number; message: string; ms: number }> {
  const start = performance.now();
  const answer = await fetch(url(`/chirpstack?event=${event}`), {
    method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/octet-stream" }, body, signal: AbortSignal.timeout(ms),
  });
  const { message } = (await answer.json()) as { message: string };
  return { status: answer.status, message, ms: performance.now() - start };
}
const healthy = async () => (await fetch(url("/healthz"), { signal: AbortSignal.timeout(2000) })).status === 200;

/** A raw connection: what it is sent, when it answered, when it closed. */
function raw(): { socket: Socket; opened: number; answer: Promise<{ text: string; at: number }>; closed: Promise<number> } {
  const socket = connect(port, "127.0.0.1");
  const opened = performance.now();
  let text = "";
  const answer = new Promise<{ text: string; at: number }>((resolve) => socket.once("data", (chunk) => {
    text += chunk;
    resolve({ text: String(chunk), at: performance.now() - opened });
  }));
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now() - opened)));
  socket.on("error", () => {});
  return { socket, opened, answer, closed };
}
/** Writes a byte every `everyMs` until the socket closes. */
function trickle(socket: Socket, byte: string, everyMs: number): void {
  const timer = setInterval(() => (socket.writable ? socket.write(byte) : clearInterval(timer)), everyMs);
  socket.on("close", () => clearInterval(timer));
}
const statusOf = (text: string) => Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
const header = (text: string, name: string) => text.match(new RegExp(`^${name}: *(.*?)\\r$`, "im"))?.[1];

describe("protobuf bodies that once hung the service", () => {
  it.each(EVENTS)("answers the 6 bytes of issue 21 as a %s event with 400 naming the event, within a second", async (event) => {
    const answer = await postProtobuf(event, SPIN);
    expect(answer.status).toBe(400);
    expect(answer.message).toBe(`body is not a ChirpStack ${event} event in protobuf: field 1 at byte 0 declares 4294967295 bytes, but 0 are left`);
    expect(answer.ms).toBeLessThan(1000);
    expect(await healthy()).toBe(true);
  });

  it("answers the same inside each event's device info (a nested message) with 400", async () => {
    for (const event of EVENTS) {
      const field = event === "log" ? 2 : 3; // deviceInfo
      const answer = await postProtobuf(event, Uint8Array.from([field * 8 + 2, SPIN.length, ...SPIN]));
      expect([event, answer.status, answer.message]).toEqual([event, 400, `body is not a ChirpStack ${event} event in protobuf: field ${field}.1 at byte 2 declares 4294967295 bytes, but 0 are left`]);
    }
  });

  it("still decodes ChirpStack's real bodies of every event type", async () => {
    for (const event of EVENTS) {
      const answer = await postProtobuf(event, chirpstackEventProtobuf(event, "70b3d52dd30e0001", unique()));
      expect([event, answer.status]).toEqual([event, 200]);
    }
  });

  // Random bytes, and real bodies of each event type with bytes changed, inserted, cut or a 2^32 length
  // put in: every one is answered (a 2xx when the bytes still make an event, else 400), never a 5xx,
  // never silence; and /healthz answers after them.
  it("answers random and mutated protobuf bodies of every event type, and /healthz still answers", async () => {
    const bases = Object.fromEntries(EVENTS.map((e) => [e, chirpstackEventProtobuf(e, "70b3d52dd30e0002", "fixed-id")]));
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom("set", "insert", "delete", "truncate", "spin"),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    const body = (event: (typeof EVENTS)[number]) => fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
        const bytes = [...bases[event]];
        for (const { at, kind, byte } of edits) {
          const i = bytes.length === 0 ? 0 : at % (bytes.length + (kind === "insert" ? 1 : 0));
          if (kind === "set") bytes[i] = byte;
          else if (kind === "insert") bytes.splice(i, 0, byte);
          else if (kind === "delete") bytes.splice(i, 1);
          else if (kind === "truncate") bytes.length = i;
          else bytes.splice(i, 0, 0xff, 0xff, 0xff, 0xff, 0x0f);
        }
        return Uint8Array.from(bytes);
      }),
    );
    const bodies = fc.constantFrom(...EVENTS).chain((event) => fc.tuple(fc.constant(event), body(event)));
    await fc.assert(fc.asyncProperty(bodies, async ([event, bytes]) => {
      const answer = await postProtobuf(event, bytes);
      expect(answer.status).toBeLessThan(500);
      if (answer.status === 400) expect(answer.message).toMatch(/^(body is not a ChirpStack \w+ event in protobuf: |body\/|body must |body nests )/);
    }), { numRuns: 400 });
    expect(await healthy()).toBe(true);
  }, 120_000);
});

describe("clients that would hold a connection", () => {
  it("answers a tokenless request 401 at its headers and closes, while its 100,000-byte body trickles", async () => {
    const c = raw();
    c.socket.write(`POST /ttn HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
    trickle(c.socket, " ", 500);
    const { text, at } = await c.answer;
    expect(statusOf(text)).toBe(401);
    expect(header(text, "connection")).toBe("close");
    expect(at).toBeLessThan(1000);
    expect(await c.closed).toBeLessThan(1500);
  });

  it("answers a wrong token 401 at its headers and closes, on /chirpstack and /api alike", async () => {
    for (const [method, path] of [["POST", "/chirpstack?event=up"], ["PUT", "/api/keepalive"]]) {
      const c = raw();
      c.socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
      trickle(c.socket, " ", 500);
      const { text, at } = await c.answer;
      expect([path, statusOf(text), header(text, "connection")]).toEqual([path, 401, "close"]);
      expect(at).toBeLessThan(1000);
      expect(await c.closed).toBeLessThan(1500);
    }
  });

  it(`answers a body with a valid token that trickles (a byte every 500 ms) 408 after BODY_TIMEOUT_MS (${BODY_TIMEOUT_MS} ms) and closes`, async () => {
    const c = raw();
    c.socket.write(`POST /ttn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
    trickle(c.socket, " ", 500);
    const { text, at } = await c.answer;
    expect(statusOf(text)).toBe(408);
    expect(header(text, "connection")).toBe("close");
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).message).toMatch(/BODY_TIMEOUT_MS/);
    expect(at).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(at).toBeLessThan(BODY_TIMEOUT_MS + 1500);
    expect(await c.closed).toBeLessThan(BODY_TIMEOUT_MS + 2000);
  });

  it(`answers headers that trickle (a line every 300 ms) 408 after HEADERS_TIMEOUT_MS (${HEADERS_TIMEOUT_MS} ms) and closes; a silent connection too`, async () => {
    const slow = raw();
    slow.socket.write("POST /ttn HTTP/1.1\r\n");
    trickle(slow.socket, "X-Slow: 1\r\n", 300);
    const silent = raw();
    for (const c of [slow, silent]) {
      const { text, at } = await c.answer;
      expect(statusOf(text)).toBe(408);
      expect(at).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
      expect(at).toBeLessThan(HEADERS_TIMEOUT_MS + 1500);
      expect(await c.closed).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
    }
  });

  it(`holds at most MAX_CONNECTIONS (${MAX_CONNECTIONS}) connections: more are closed as they come, and all is served once they time out`, async () => {
    const sockets = Array.from({ length: MAX_CONNECTIONS + 10 }, () => raw());
    const early = await Promise.all(sockets.map((c) => Promise.race([
      c.closed.then((ms) => ms < HEADERS_TIMEOUT_MS / 2), c.answer.then(() => false),
    ])));
    expect(early.filter(Boolean).length).toBeGreaterThanOrEqual(10);
    await Promise.all(sockets.map((c) => c.closed));
    expect(await healthy()).toBe(true);
  });

  it("serves a real uplink meanwhile, and after", async () => {
    const held = Array.from({ length: 20 }, () => {
      const c = raw();
      c.socket.write(`POST /ttn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
      trickle(c.socket, " ", 200);
      return c;
    });
    const post = () => fetch(url("/ttn"), {
      method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(ttsUplink({ devEui: "70b3d52dd30e0003", id: unique() })),
    });
    expect((await post()).status).toBe(200);
    await Promise.all(held.map((c) => c.closed));
    expect((await post()).status).toBe(200);
  }, 20_000);
});
