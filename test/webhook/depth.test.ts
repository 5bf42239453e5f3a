// Bodies nested beyond MAX_JSON_DEPTH are refused with 400 naming the limit, over a real socket, before
// anything recurses into them (the schema check, dropNulls, enum names, the dedup hash, jsonb): the nesting
// of issue 21 (2,000 levels in a ChirpStack status or log field, 5,000 in object or a TTS join_accept)
// once answered 500 "Maximum call stack size exceeded". What nests within the limit is stored.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { MAX_JSON_DEPTH } from "../../webhook/ingest/schema-common";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { API_TOKEN, chirpstackUplink, chirpstackUplinkProtobuf, KEEP_ALIVE_B64, TOKEN, ttsUplink, unique } from "../support/messages";

/** `levels` objects nested in one another, as JSON text (JSON.stringify itself would overflow the stack). */
const nested = (levels: number, leaf = "1") => '{"a":'.repeat(levels) + leaf + "}".repeat(levels);
/** A JSON body with `field` set to raw JSON text. */
const withField = (message: object, field: string, raw: string) => JSON.stringify({ ...message, [field]: "@@" }).replace('"@@"', raw);

describe.each(DATABASES)("nesting depth on %s", (_name, factory) => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    test = await migratedDatabase(factory);
    app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN] });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  const post = (path: string, body: string | Uint8Array, type = "application/json") =>
    fetch(`${base}${path}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": type }, body });
  const chirpstack = () => ({ ...chirpstackUplink({ id: unique() }), deviceInfo: { devEui: "70b3d52dd30d0001" } });
  const tts = () => {
    const { uplink_message: _, ...message } = ttsUplink({ devEui: "70b3d52dd30d0002", id: unique() });
    return message;
  };

  const CASES: [string, string, string][] = [
    ["a ChirpStack status field, 2,000 levels", "/chirpstack?event=status", withField(chirpstack(), "margin", nested(2000))],
    ["a ChirpStack log context, 2,000 levels", "/chirpstack?event=log", withField(chirpstack(), "context", nested(2000))],
    ["a ChirpStack object, 5,000 levels", "/chirpstack?event=up", withField(chirpstack(), "object", nested(5000))],
    ["a TTS join_accept, 5,000 levels", "/ttn", withField(tts(), "join_accept", nested(5000))],
    ["arrays, 5,000 levels", "/ttn", withField(tts(), "join_accept", `{"x":${"[".repeat(5000)}${"]".repeat(5000)}}`)],
  ];
  it.each(CASES)("refuses %s with 400 naming the limit", async (_case, path, body) => {
    const answer = await post(path, body);
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { message: string }).message)
      .toMatch(new RegExp(`^body nests objects and arrays deeper than the limit of ${MAX_JSON_DEPTH} levels, at body/`));
  });

  it("refuses a protobuf object (google.protobuf.Struct) nested beyond the limit, and stores one within it", async () => {
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 1; i < MAX_JSON_DEPTH - 1; i++) deep = { a: deep }; // 63 objects in object: 64 levels with the body
    const ok = await post("/chirpstack?event=up", chirpstackUplinkProtobuf({ devEui: "70b3d52dd30d0003", id: unique(), data: KEEP_ALIVE_B64, object: deep }), "application/octet-stream");
    expect(ok.status).toBe(200);
    const tooDeep = await post("/chirpstack?event=up", chirpstackUplinkProtobuf({ devEui: "70b3d52dd30d0003", id: unique(), data: KEEP_ALIVE_B64, object: { b: deep } }), "application/octet-stream");
    expect(tooDeep.status).toBe(400);
    expect(((await tooDeep.json()) as { message: string }).message).toMatch(/^body nests objects and arrays deeper than the limit of 64 levels, at body\/object\/b\/a\/a/);
  });

  it("refuses the same on /api and /session, before their schemas", async () => {
    for (const [method, path, authorization] of [["PUT", "/api/keepalive", `Bearer ${API_TOKEN}`], ["POST", "/session", ""]]) {
      const answer = await fetch(`${base}${path}`, {
        method, headers: { authorization, "content-type": "application/json" }, body: withField({ minutes: 15 }, "devices", `[${nested(3000)}]`),
      });
      expect([path, answer.status]).toEqual([path, 400]);
      expect(((await answer.json()) as { message: string }).message).toMatch(/^body nests objects and arrays deeper than the limit of 64 levels, at body\/devices\/0\/a/);
    }
  });

  it("stores a body nested to the limit exactly, and refuses one level more", async () => {
    // The body is level 1; 63 objects in its object make 64 levels.
    const answer = await post("/chirpstack?event=up", withField(chirpstack(), "object", nested(MAX_JSON_DEPTH - 1)));
    expect(answer.status).toBe(200);
    const over = await post("/chirpstack?event=up", withField(chirpstack(), "object", nested(MAX_JSON_DEPTH)));
    expect(over.status).toBe(400);
  });
});
