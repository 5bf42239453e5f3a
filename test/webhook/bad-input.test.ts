// Bad requests through the real HTTP stack (a listening socket): each gets the right 4xx and a message
// that names what is wrong, nothing is stored, tokens never reach the logs, and the service keeps serving.
import http from "node:http";
import { connect } from "node:net";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { chirpstackUplink, chirpstackUplinkProtobuf, KEEP_ALIVE_B64, TOKEN, ttsUplink } from "../support/messages";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(base: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: o.method ?? "POST", headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

const devEui = "70b3d52dd30000c1";
const ids = { device_id: "plug-bad", dev_eui: devEui };
const json = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
const protobuf = { "content-type": "application/octet-stream", authorization: `Bearer ${TOKEN}` };
const body = (value: unknown) => JSON.stringify(value);

// [case, path, headers, body, status, message]
const CORPUS: [string, string, Record<string, string>, string | Buffer, number, RegExp][] = [
  ["a missing token", "/ttn", { "content-type": "application/json" }, body(ttsUplink({ devEui })), 401, /^missing Authorization: Bearer <token> header$/],
  ["a wrong token", "/ttn", { ...json, authorization: "Bearer not-the-token" }, body(ttsUplink({ devEui })), 401, /^invalid bearer token$/],
  ["another scheme", "/ttn", { ...json, authorization: `Basic ${TOKEN}` }, body(ttsUplink({ devEui })), 401, /^the Authorization scheme "Basic" is not accepted: send Authorization: Bearer <token>$/],
  ["a token without its scheme", "/ttn", { ...json, authorization: TOKEN }, body(ttsUplink({ devEui })), 401, /^the Authorization header has no scheme: send Authorization: Bearer <token>$/],
  ["a token with a suffix", "/ttn", { ...json, authorization: `Bearer ${TOKEN}x` }, body(ttsUplink({ devEui })), 401, /^invalid bearer token$/],
  ["malformed JSON", "/ttn", json, '{"end_device_ids": {', 400, /^Body is not valid JSON/],
  ["bytes that are not UTF-8 JSON", "/ttn", json, Buffer.from([0xff, 0xfe, 0x7b]), 400, /^Body is not valid JSON/],
  ["an empty JSON body", "/ttn", json, "", 400, /Body cannot be empty when content-type is set to 'application\/json'/],
  ["a JSON array", "/ttn", json, "[]", 400, /^body must be object$/],
  ["JSON that pollutes prototypes", "/ttn", json, '{"__proto__": {"admin": true}, "end_device_ids": {}}', 400, /^Body is not valid JSON/],
  ["a wrong content type", "/ttn", { ...json, "content-type": "text/plain" }, "hello", 415, /^Content-Type "text\/plain" is not accepted: send application\/json, or application\/octet-stream for ChirpStack protobuf$/],
  ["no content type", "/ttn", { authorization: `Bearer ${TOKEN}` }, "hello", 415, /^a body without Content-Type is not accepted/],
  ["protobuf sent to the TTS path", "/ttn", protobuf, Buffer.from([1, 2]), 415, /^Content-Type "application\/octet-stream" is not accepted/],
  ["a missing device_id", "/ttn", json, body({ end_device_ids: { dev_eui: devEui }, uplink_message: {} }), 400, /^body\/end_device_ids must have required property 'device_id'$/],
  ["a bad dev_eui", "/ttn", json, body({ end_device_ids: { ...ids, dev_eui: "70b3" } }), 400, /^body\/end_device_ids\/dev_eui must match pattern/],
  ["a number for dev_eui", "/ttn", json, body({ end_device_ids: { ...ids, dev_eui: 7 } }), 400, /^body\/end_device_ids\/dev_eui must match pattern/],
  ["an object for dev_eui", "/ttn", json, body({ end_device_ids: { ...ids, dev_eui: {} } }), 400, /^body\/end_device_ids\/dev_eui must be string$/],
  ["an f_cnt over uint32", "/ttn", json, body({ end_device_ids: ids, uplink_message: { f_cnt: 2 ** 32, frm_payload: KEEP_ALIVE_B64 } }), 400, /^body\/uplink_message\/f_cnt must be <= 4294967295$/],
  ["a negative ChirpStack fPort", "/chirpstack?event=up", json, body({ ...chirpstackUplink({ devEui }), fPort: -1 }), 400, /^body\/fPort must be >= 0$/],
  ["a string f_cnt", "/ttn", json, body({ end_device_ids: ids, uplink_message: { f_cnt: "x", frm_payload: KEEP_ALIVE_B64 } }), 400, /^body\/uplink_message\/f_cnt must be integer$/],
  ["base64 with bad characters", "/ttn", json, body({ end_device_ids: ids, uplink_message: { frm_payload: "AR*D" } }), 400, /^body\/uplink_message\/frm_payload must match pattern/],
  ["base64 of impossible length", "/ttn", json, body({ end_device_ids: ids, uplink_message: { frm_payload: "ARwDS" } }), 400, /^body\/uplink_message\/frm_payload is not valid base64$/],
  ["no known message type", "/ttn", json, body({ end_device_ids: ids, something_new: {} }), 400, /^body: no known message type; expected one of uplink_message, join_accept/],
  ["an unknown ChirpStack event", "/chirpstack?event=bogus", json, body(chirpstackUplink({ devEui })), 400, /^querystring\/event must be equal to one of the allowed values \(up, join, ack, txack, log, status, location, integration\)$/],
  ["a missing ChirpStack event", "/chirpstack", json, body(chirpstackUplink({ devEui })), 400, /^querystring must have required property 'event'$/],
  ["ChirpStack bad base64", "/chirpstack?event=up", json, body({ ...chirpstackUplink({ devEui }), data: "@@" }), 400, /^body\/data must match pattern/],
  ["a truncated protobuf", "/chirpstack?event=up", protobuf, Buffer.from(chirpstackUplinkProtobuf({ devEui, id: "x", data: KEEP_ALIVE_B64 })).subarray(0, 30), 400, /^body is not a ChirpStack up event in protobuf: /],
  ["an empty protobuf", "/chirpstack?event=up", protobuf, Buffer.alloc(0), 400, /^body must have required property 'deviceInfo'$/],
  ["random bytes as protobuf", "/chirpstack?event=up", protobuf, Buffer.from("ffffffffffffffffffff", "hex"), 400, /^body is not a ChirpStack up event in protobuf: /],
  ["an unknown event in protobuf", "/chirpstack?event=bogus", protobuf, Buffer.from([1]), 400, /^querystring\/event must be one of up, join/],
  ["a protobuf integration event", "/chirpstack?event=integration", protobuf, Buffer.from([1]), 400, /^event=integration is taken as JSON only/],
  ["a body over the size limit", "/ttn", json, body({ ...ttsUplink({ devEui }), padding: "x".repeat(8192) }), 413, /^Request body is too large/],
];

describe.each(DATABASES)("bad input over HTTP on %s", (_name, factory) => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let logs = "";

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    const stream = new Writable({
      write: (chunk, _encoding, done) => {
        logs += chunk;
        done();
      },
    });
    app = await buildApp({ db: test.db, tokens: [TOKEN], bodyLimit: 4096, unauthenticatedPerMinute: 1000, logger: { level: "trace", stream } });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  it.each(CORPUS)("%s", async (_case, path, headers, payload, status, message) => {
    const answer = await request(base, path, { headers, body: payload });
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: status, message: expect.stringMatching(message) });
  });

  it("answers a wrong method or path with 404 and its name", async () => {
    const answer = await request(base, "/ttn", { method: "GET", headers: json });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).message).toBe("Route GET:/ttn not found");
  });

  it("answers headers over Node's limit with 431 and closes", async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(base).port), "127.0.0.1");
      let text = "";
      socket.on("data", (d) => (text += d)).on("close", () => resolve(text)).on("error", () => resolve(text));
      socket.write(`POST /ttn HTTP/1.1\r\nHost: x\r\nX-Padding: ${"a".repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large/);
  });

  it("stored nothing from all of it, never logged a token, and still serves", async () => {
    const { rows } = await test.db.query<{ n: number }>(
      "SELECT (SELECT count(*) FROM uplinks) + (SELECT count(*) FROM device_events) + (SELECT count(*) FROM devices) AS n");
    expect(Number(rows[0].n)).toBe(0);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain("not-the-token");
    expect((await request(base, "/healthz", { method: "GET" })).status).toBe(200);
    expect((await request(base, "/ttn", { headers: json, body: body(ttsUplink({ devEui: "70b3d52dd30000c9" })) })).status).toBe(200);
  });
});

describe("a caller without a valid token", () => {
  it("is limited per address after the configured number of requests a minute; a valid token never is", async () => {
    const [, factory] = DATABASES[0];
    const test = await migratedDatabase(factory);
    const app = await buildApp({ db: test.db, tokens: [TOKEN], unauthenticatedPerMinute: 5 });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const wrong = { ...json, authorization: "Bearer guess-0123456789abcdef" };
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await request(base, "/ttn", { headers: wrong, body: "{}" })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await request(base, "/ttn", { headers: wrong, body: "{}" });
      expect(JSON.parse(limited.body).message).toMatch(/^too many requests without a valid token from this address; retry in /);
      expect(limited.headers["retry-after"]).toBeDefined();
      for (let i = 0; i < 10; i++) {
        expect((await request(base, "/ttn", { headers: json, body: body(ttsUplink({ devEui: "70b3d52dd30000ca", id: `rate-${i}` })) })).status).toBe(200);
      }
    } finally {
      await app.close();
      await test.drop();
    }
  });
});
