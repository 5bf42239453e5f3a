// Downlinks at the wire level (contract §4): POST /api/devices/{devEui}/downlinks → the network API (a real HTTP
// server for TTS, a real gRPC server with ChirpStack's own service definition) → the network's events through the
// webhook → the downlink's state. Refusing and unreachable APIs, bad requests, and keys kept out of logs and answers.
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeDownlink } from "../../formatter/index";
import { loadConfig } from "../../webhook/config";
import { grpcTarget } from "../../webhook/downlinks/chirpstack";
import { insertDownlink, markPushed, markPushFailed, nextDueInMs } from "../../webhook/downlinks/store";
import { API_TOKEN, type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { chirpstackAck, chirpstackTxAck, ttsDownlinkEvent } from "../support/downlink-events";
import { chirpstackUplink, TOKEN, ttsUplink } from "../support/messages";
import { chirpstackStandIn, type ChirpStackStandIn, ttsStandIn, type TtsStandIn, until } from "../support/network-apis";

const TTS_KEY = "NNSXS.DOWNLINKTESTKEY.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LEARNT_KEY = "NNSXS.LEARNTFROMHEADERS.ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";
const CS_TOKEN = "chirpstack-api-key-secret-0123456789";
const FAST_RETRY = { maxAttempts: 3, delaysMs: [50, 100] };
const CORRELATION = /^aspm16:downlink:[0-9a-f-]{36}$/;

/** The downlink `id` of `devEui` as GET …/downlinks shows it. */
async function downlinkOf(app: ApiApp, devEui: string, id: string) {
  const { body } = await app.api("GET", `/devices/${devEui}/downlinks`);
  return (body.downlinks as { id: string; state: string; attempts: number; error?: string }[]).find((d) => d.id === id);
}

function untilState(app: ApiApp, devEui: string, id: string, state: string) {
  return until(async () => {
    const d = await downlinkOf(app, devEui, id);
    return d?.state === state && d;
  }, `downlink ${id} to become ${state}`);
}

const secretsIn = (text: string) => [TTS_KEY, LEARNT_KEY, CS_TOKEN].filter((secret) => text.includes(secret));

describe.each(DATABASES)("downlinks on %s", (_name, factory) => {
  describe("through TTS_API_URL / TTS_API_KEY / TTS_WEBHOOK_ID", () => {
    const DEV = "70b3d52dd30010a1";
    const CS_DEV = "70b3d52dd30010c1";
    let tts: TtsStandIn;
    let app: ApiApp;
    beforeAll(async () => {
      tts = await ttsStandIn();
      app = await startApiApp(factory, { downlinks: { tts: { apiUrl: tts.url, apiKey: TTS_KEY, webhookId: "wh-16aspm" }, retry: FAST_RETRY } });
      expect(await app.ingest("/ttn", ttsUplink({ devEui: DEV.toUpperCase() }))).toBe(200);
      expect(await app.ingest("/chirpstack?event=up", chirpstackUplink({ devEui: CS_DEV }))).toBe(200);
    });
    afterAll(async () => {
      await app.close();
      await tts.close();
    });
    afterEach(() => {
      tts.answer = () => ({ status: 200, body: "{}" });
    });

    it("pushes the codec's bytes to the webhook's downlink queue, byte for byte", async () => {
      tts.calls.length = 0;
      const answer = await app.api("POST", `/devices/${DEV.toUpperCase()}/downlinks`, { data: { setRelayState: 1 } });
      expect(answer.status).toBe(202);
      expect(answer.body).toEqual({
        downlink: {
          id: expect.any(String), devEui: DEV, network: "ttn", fPort: 1, bytes: "c101", data: { setRelayState: 1 }, confirmed: false,
          state: "queued", createdAt: expect.any(String), updatedAt: expect.any(String), purpose: "api", attempts: 0,
        },
        warnings: [],
      });
      const [call] = await until(() => tts.calls.length === 1 && tts.calls, "the push");
      expect(call.method).toBe("POST");
      expect(call.path).toBe("/api/v3/as/applications/energy-demo/webhooks/wh-16aspm/devices/plug-kitchen/down/push");
      expect(call.headers.authorization).toBe(`Bearer ${TTS_KEY}`);
      expect(call.headers["content-type"]).toBe("application/json");
      const correlation = JSON.parse(call.body).downlinks[0].correlation_ids[0];
      expect(correlation).toMatch(CORRELATION);
      // C1 01 in base64 is "wQE=".
      expect(call.body).toBe(`{"downlinks":[{"f_port":1,"frm_payload":"wQE=","priority":"NORMAL","confirmed":false,"correlation_ids":["${correlation}"]}]}`);
      const pushed = await until(async () => {
        const d = await downlinkOf(app, DEV, answer.body.downlink.id);
        return d?.attempts === 1 && d;
      }, "the push to be recorded");
      expect(pushed).toMatchObject({ state: "queued", attempts: 1 });
      expect(pushed.error).toBeUndefined();
    });

    it("takes the codec's fPort and warnings, and a confirmed downlink", async () => {
      tts.calls.length = 0;
      const answer = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setKeepAlive: 5, getKeepAliveTime: true, fPort: 2 }, confirmed: true });
      expect(answer.status).toBe(202);
      expect(answer.body.downlink).toMatchObject({ fPort: 2, bytes: "020512", confirmed: true });
      // The codec's own duty-cycle advice for 5 minutes.
      expect(answer.body.warnings).toEqual(encodeDownlink({ data: { setKeepAlive: 5, getKeepAliveTime: true, fPort: 2 } }).warnings);
      expect(answer.body.warnings).toHaveLength(1);
      const [call] = await until(() => tts.calls.length === 1 && tts.calls, "the push");
      expect(JSON.parse(call.body).downlinks[0]).toMatchObject({ f_port: 2, frm_payload: "AgUS", confirmed: true });
    });

    it("moves along with TTS's downlink events, matched by the correlation id it sent", async () => {
      tts.calls.length = 0;
      const { body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setRelayState: 0 }, confirmed: true });
      const [call] = await until(() => tts.calls.length === 1 && tts.calls, "the push");
      const correlationIds = JSON.parse(call.body).downlinks[0].correlation_ids;
      const event = (type: Parameters<typeof ttsDownlinkEvent>[0]) =>
        app.ingest("/ttn", ttsDownlinkEvent(type, { devEui: DEV, deviceId: "plug-kitchen", correlationIds, frmPayload: "wQA=", confirmed: true }));
      expect(await event("downlink_queued")).toBe(200);
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({ state: "queued" });
      expect(await event("downlink_sent")).toBe(200);
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({ state: "sent" });
      expect(await event("downlink_ack")).toBe(200);
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({ state: "acked" });
      // A late or repeated event never moves a downlink back.
      expect(await event("downlink_sent")).toBe(200);
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({ state: "acked" });
    });

    it("keeps TTS's reason on a nack or a failure; events of other downlinks change nothing", async () => {
      tts.calls.length = 0;
      const nacked = (await app.api("POST", `/devices/${DEV}/downlinks`, { data: { getRelayState: true }, confirmed: true })).body.downlink;
      const failed = (await app.api("POST", `/devices/${DEV}/downlinks`, { data: { getDeviceVersions: true } })).body.downlink;
      await until(() => tts.calls.length === 2, "both pushes");
      const idOf = (bytes: string) => tts.calls.map((c) => JSON.parse(c.body).downlinks[0]).find((d) => d.frm_payload === bytes).correlation_ids;
      await app.ingest("/ttn", ttsDownlinkEvent("downlink_nack", { devEui: DEV, deviceId: "plug-kitchen", correlationIds: idOf("sQ=="), confirmed: true }));
      await app.ingest("/ttn", ttsDownlinkEvent("downlink_failed", { devEui: DEV, deviceId: "plug-kitchen", correlationIds: idOf("BA==") }));
      await app.ingest("/ttn", ttsDownlinkEvent("downlink_failed", { devEui: DEV, deviceId: "plug-kitchen", correlationIds: ["aspm16:downlink:00000000-0000-4000-8000-000000000000"] }));
      expect(await downlinkOf(app, DEV, nacked.id)).toMatchObject({ state: "nacked", error: "The Things Stack: the device did not acknowledge the confirmed downlink" });
      expect(await downlinkOf(app, DEV, failed.id)).toMatchObject({
        state: "failed", error: "The Things Stack reported the downlink failed: pkg/networkserver: no_device_session: no device session",
      });
    });

    it("lists a device's downlinks newest first, its devEui in either case", async () => {
      const { status, body } = await app.api("GET", `/devices/${DEV.toUpperCase()}/downlinks`);
      expect(status).toBe(200);
      const ids = (body.downlinks as { id: string }[]).map((d) => Number(d.id));
      expect(ids.length).toBeGreaterThanOrEqual(5);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect((await app.api("GET", `/devices/${DEV}/downlinks?limit=1`)).body.downlinks).toHaveLength(1);
      expect(await app.api("GET", "/devices/0000000000000000/downlinks")).toMatchObject({ status: 404, body: { message: "device 0000000000000000 is not known: it appears once the service has received an uplink or join from it" } });
    });

    it("refuses every bad request with a clear answer, and sends and records nothing", async () => {
      const count = async () => (await app.db.query<{ n: number }>("SELECT count(*)::int AS n FROM downlinks")).rows[0].n;
      await until(async () => (await app.db.query("SELECT 1 FROM downlinks WHERE state = 'queued' AND next_attempt_at IS NOT NULL")).rows.length === 0, "earlier pushes");
      const before = { rows: await count(), calls: tts.calls.length };
      const path = `/devices/${DEV}/downlinks`;
      // The codec's own messages are the answer, whatever their wording (one codec).
      const codec = (data: Record<string, unknown>) => {
        const { errors } = encodeDownlink({ data });
        expect(errors?.length).toBeGreaterThan(0);
        return errors!.join("; ");
      };
      const cases: [string, unknown, number, string, (string | null)?][] = [
        [path, { data: { setKeepAlive: 0 } }, 400, codec({ setKeepAlive: 0 })],
        [path, { data: { setKeepAlive: 256 } }, 400, codec({ setKeepAlive: 256 })],
        [path, { data: { setKeepAlive: 15.5 } }, 400, codec({ setKeepAlive: 15.5 })],
        [path, { data: { setKeepAlive: "x" } }, 400, codec({ setKeepAlive: "x" })],
        [path, { data: { setRelay: 1 } }, 400, codec({ setRelay: 1 })],
        [path, { data: {} }, 400, codec({})],
        [path, { data: { setRelayState: 1, fPort: 3 } }, 400, codec({ setRelayState: 1, fPort: 3 })],
        [path, {}, 400, "body must have required property 'data'"],
        [path, { data: "c101" }, 400, "body/data must be object"],
        [path, { data: { setRelayState: 1 }, confirmed: "maybe" }, 400, "body/confirmed must be boolean"],
        [path, { data: { setRelayState: 1 }, confimed: true }, 400, "body/confimed is not a field"],
        ["/devices/70b3d52dd30010zz/downlinks", { data: { setRelayState: 1 } }, 400, "params/devEui must match pattern"],
        ["/devices/0000000000000000/downlinks", { data: { setRelayState: 1 } }, 404, "device 0000000000000000 is not known: it appears once the service has received an uplink or join from it"],
        [`/devices/${CS_DEV}/downlinks`, { data: { setRelayState: 1 } }, 409, "set CHIRPSTACK_API_URL and CHIRPSTACK_API_TOKEN"],
        [path, { data: { setRelayState: 1 } }, 401, "missing Authorization: Bearer <token> header", null],
        [path, { data: { setRelayState: 1 } }, 401, "invalid bearer token", TOKEN],
      ];
      for (const [where, body, status, message, token] of cases) {
        const answer = await app.api("POST", where, body, token === undefined ? API_TOKEN : token);
        expect({ body, status: answer.status }).toEqual({ body, status });
        expect(answer.body).toMatchObject({ statusCode: status, message: expect.stringContaining(message) });
      }
      const notJson = await fetch(`${app.base}/api${path}`, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "text/plain" }, body: "c101" });
      expect(notJson.status).toBe(415);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect({ rows: await count(), calls: tts.calls.length }).toEqual(before);
    });

    it("tries a refusing API again with backoff, keeps its error, and marks the downlink failed after the last try", async () => {
      tts.calls.length = 0;
      // The refusal echoes the key, as a careless server might: it must still never be stored or shown.
      tts.answer = () => ({ status: 403, body: `{"code":7,"message":"error:pkg/auth/rights:no_application_rights (key ${TTS_KEY})"}` });
      const { body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setLedIndicationMode: 0 } });
      // Ingest goes on meanwhile.
      expect(await app.ingest("/ttn", ttsUplink({ devEui: DEV, fCnt: 4712 }))).toBe(200);
      const failed = await untilState(app, DEV, body.downlink.id, "failed");
      expect(tts.calls).toHaveLength(3);
      expect(failed.attempts).toBe(3);
      expect(failed.error).toBe(`attempt 3 of 3: The Things Stack at ${tts.url} refused the downlink: 403 Forbidden: `
        + `{"code":7,"message":"error:pkg/auth/rights:no_application_rights (key <redacted>)"}`);
      const stored = await app.db.query<{ n: number }>("SELECT count(*)::int AS n FROM uplinks WHERE dev_eui = $1 AND f_cnt = 4712", [DEV]);
      expect(stored.rows[0].n).toBe(1);
    });

    it("delivers once a refusing API takes it again, clearing the error", async () => {
      tts.calls.length = 0;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      tts.answer = async () => {
        if (tts.calls.length < 3) return { status: 503, body: "" };
        await released;
        return { status: 200, body: "{}" };
      };
      const { body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { getRegion: true } });
      await until(() => tts.calls.length === 3, "the third try");
      // The third try is under way: the second one's error is on the row.
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({
        state: "queued", attempts: 3, error: `attempt 2 of 3: The Things Stack at ${tts.url} refused the downlink: 503 Service Unavailable`,
      });
      release();
      const pushed = await until(async () => {
        const d = await downlinkOf(app, DEV, body.downlink.id);
        return d?.error === undefined ? d : undefined;
      }, "the third try to succeed");
      expect(pushed).toMatchObject({ state: "queued", attempts: 3 });
      // The same correlation id on every try, so the events match whichever push the network took.
      expect(new Set(tts.calls.map((c) => JSON.parse(c.body).downlinks[0].correlation_ids[0])).size).toBe(1);
    });

    it("never writes the API key in a log line or an answer", async () => {
      const logs = app.logs.join("");
      expect(logs).toContain("downlink not taken by the network API");
      expect(secretsIn(logs)).toEqual([]);
      const { text } = await app.api("GET", `/devices/${DEV}/downlinks`);
      expect(text).toContain("<redacted>");
      expect(secretsIn(text)).toEqual([]);
      const stored = await app.db.query<{ all: string }>("SELECT string_agg(coalesce(error, '') || data::text || coalesce(network_ref, ''), ' ') AS all FROM downlinks");
      expect(secretsIn(stored.rows[0].all)).toEqual([]);
    });
  });

  describe("through the X-Downlink-Push / X-Downlink-Apikey headers of TTS webhook calls", () => {
    const DEV = "70b3d52dd30020a1";
    const OTHER = "70b3d52dd30020a2";
    let tts: TtsStandIn;
    let app: ApiApp;
    beforeAll(async () => {
      tts = await ttsStandIn();
      app = await startApiApp(factory, { downlinks: { retry: FAST_RETRY } });
      expect(await app.ingest("/ttn", ttsUplink({ devEui: DEV }))).toBe(200);
    });
    afterAll(async () => {
      await app.close();
      await tts.close();
    });

    it("answers 409 naming the settings until a webhook call brings the headers", async () => {
      const answer = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setRelayState: 1 } });
      expect(answer.status).toBe(409);
      expect(answer.body.message).toBe(`device ${DEV} is on The Things Stack, which has no downlink route: set TTS_API_URL, TTS_API_KEY and TTS_WEBHOOK_ID, `
        + "or give the TTS webhook a downlink API key (its calls then carry X-Downlink-Push and X-Downlink-Apikey)");
    });

    it("pushes to the URL TTS gave, with its key, for every device of the application", async () => {
      const push = `${tts.url}/api/v3/as/applications/energy-demo/webhooks/learnt-hook/devices/plug-kitchen/down/push`;
      expect(await app.ingest("/ttn", ttsUplink({ devEui: DEV, fCnt: 2 }), {
        "x-downlink-apikey": LEARNT_KEY, "x-downlink-push": push, "x-downlink-replace": push.replace(/push$/, "replace"), "x-tts-domain": "127.0.0.1",
      })).toBe(200);
      const other = ttsUplink({ devEui: OTHER });
      other.end_device_ids.device_id = "plug-hall";
      expect(await app.ingest("/ttn", other)).toBe(200);

      expect((await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setRelayState: 1 } })).status).toBe(202);
      await until(() => tts.calls.length === 1, "the first push");
      expect((await app.api("POST", `/devices/${OTHER}/downlinks`, { data: { setRelayState: 0 } })).status).toBe(202);
      await until(() => tts.calls.length === 2, "the second push");
      expect(tts.calls.map((c) => [c.path, c.headers.authorization])).toEqual([
        ["/api/v3/as/applications/energy-demo/webhooks/learnt-hook/devices/plug-kitchen/down/push", `Bearer ${LEARNT_KEY}`],
        ["/api/v3/as/applications/energy-demo/webhooks/learnt-hook/devices/plug-hall/down/push", `Bearer ${LEARNT_KEY}`],
      ]);
      expect(secretsIn(app.logs.join(""))).toEqual([]);
      const stored = await app.db.query("SELECT * FROM device_events");
      expect(secretsIn(JSON.stringify(stored.rows))).toEqual([]);
    });
  });

  describe("through ChirpStack's gRPC API", () => {
    const DEV = "70b3d52dd30030c1";
    let chirpstack: ChirpStackStandIn;
    let app: ApiApp;
    beforeAll(async () => {
      chirpstack = await chirpstackStandIn();
      app = await startApiApp(factory, { downlinks: { chirpstack: { apiUrl: chirpstack.address, apiToken: CS_TOKEN }, retry: FAST_RETRY } });
      expect(await app.ingest("/chirpstack?event=up", chirpstackUplink({ devEui: DEV }))).toBe(200);
    });
    afterAll(async () => {
      await app.close();
      await chirpstack.close();
    });
    afterEach(() => {
      chirpstack.answer = async () => ({ id: crypto.randomUUID() });
    });

    it("enqueues with ChirpStack's own client and the API key, and moves along with txack and ack", async () => {
      chirpstack.calls.length = 0;
      chirpstack.answer = async () => ({ id: "7d1c6a52-4b3e-4f0a-9c8d-1e2f3a4b5c6d" });
      const { status, body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setKeepAlive: 15, getKeepAliveTime: true }, confirmed: true });
      expect(status).toBe(202);
      expect(body.downlink).toMatchObject({ network: "chirpstack", fPort: 1, bytes: "020f12", state: "queued" });
      const [call] = await until(() => chirpstack.calls.length === 1 && chirpstack.calls, "the Enqueue call");
      expect(call).toEqual({ authorization: [`Bearer ${CS_TOKEN}`], devEui: DEV, fPort: 1, confirmed: true, data: Buffer.from("020f12", "hex"), flushQueue: false });
      await until(async () => (await downlinkOf(app, DEV, body.downlink.id))?.attempts === 1, "the push to be recorded");

      expect(await app.ingest("/chirpstack?event=txack", chirpstackTxAck(DEV, "7d1c6a52-4b3e-4f0a-9c8d-1e2f3a4b5c6d"))).toBe(200);
      // attempts is 1 from the claim on, before the Enqueue answer gives the queue item id: a txack that comes
      // first is applied once it does (the test below), so this waits for it.
      await untilState(app, DEV, body.downlink.id, "sent");
      expect(await app.ingest("/chirpstack?event=ack", chirpstackAck(DEV, "7d1c6a52-4b3e-4f0a-9c8d-1e2f3a4b5c6d", true))).toBe(200);
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({ state: "acked" });
    });

    it("takes an ack without `acknowledged` as a nack", async () => {
      chirpstack.answer = async () => ({ id: "0b6d7e8f-1a2b-4c3d-8e9f-0a1b2c3d4e5f" });
      const { body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { getRelayState: true }, confirmed: true });
      await until(async () => (await downlinkOf(app, DEV, body.downlink.id))?.attempts === 1, "the push");
      expect(await app.ingest("/chirpstack?event=ack", chirpstackAck(DEV, "0b6d7e8f-1a2b-4c3d-8e9f-0a1b2c3d4e5f", false))).toBe(200);
      // attempts is 1 from the claim on: an ack that comes before the Enqueue answer is applied once it does
      // (a clean-clone CI run saw "queued" when this read at once).
      expect(await untilState(app, DEV, body.downlink.id, "nacked")).toMatchObject({
        error: "ChirpStack: the device did not acknowledge the confirmed downlink",
      });
    });

    it("applies a txack that arrives before ChirpStack's Enqueue answer (a Class C plug is that fast)", async () => {
      const id = "5e4d3c2b-1a09-4876-9543-210fedcba987";
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      chirpstack.answer = async () => {
        await released;
        return { id };
      };
      chirpstack.calls.length = 0;
      const { body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { setRelayState: 1 } });
      await until(() => chirpstack.calls.length === 1, "the Enqueue call");
      expect(await app.ingest("/chirpstack?event=txack", chirpstackTxAck(DEV, id))).toBe(200);
      expect(await downlinkOf(app, DEV, body.downlink.id)).toMatchObject({ state: "queued" });
      release();
      await untilState(app, DEV, body.downlink.id, "sent");
    });

    it("keeps a refusal's status and marks the downlink failed after the last try, the token never shown", async () => {
      chirpstack.calls.length = 0;
      chirpstack.answer = async () => ({ code: grpc.status.PERMISSION_DENIED, details: `no access with ${CS_TOKEN}` });
      const { body } = await app.api("POST", `/devices/${DEV}/downlinks`, { data: { resetDevice: true } });
      const failed = await untilState(app, DEV, body.downlink.id, "failed");
      expect(chirpstack.calls).toHaveLength(3);
      expect(failed.error).toBe(`attempt 3 of 3: ChirpStack API at ${chirpstack.address} refused the downlink: PERMISSION_DENIED: no access with <redacted>`);
      expect(secretsIn(app.logs.join(""))).toEqual([]);
      expect(secretsIn((await app.api("GET", `/devices/${DEV}/downlinks`)).text)).toEqual([]);
    });
  });

  describe("with the network APIs down", () => {
    const TTS_DEV = "70b3d52dd30040a1";
    const CS_DEV = "70b3d52dd30040c1";
    let app: ApiApp;
    beforeAll(async () => {
      // Ports that were just free: nothing listens there.
      const tts = await ttsStandIn();
      const chirpstack = await chirpstackStandIn();
      await Promise.all([tts.close(), chirpstack.close()]);
      app = await startApiApp(factory, {
        downlinks: {
          tts: { apiUrl: tts.url, apiKey: TTS_KEY, webhookId: "wh" },
          chirpstack: { apiUrl: chirpstack.address, apiToken: CS_TOKEN },
          retry: FAST_RETRY,
        },
      });
    });
    afterAll(() => app.close());

    it("accepts the downlinks, tries each API a bounded number of times, and keeps why; ingest is unaffected", async () => {
      expect(await app.ingest("/ttn", ttsUplink({ devEui: TTS_DEV }))).toBe(200);
      expect(await app.ingest("/chirpstack?event=up", chirpstackUplink({ devEui: CS_DEV }))).toBe(200);
      const toTts = (await app.api("POST", `/devices/${TTS_DEV}/downlinks`, { data: { setRelayState: 1 } })).body.downlink;
      const toCs = (await app.api("POST", `/devices/${CS_DEV}/downlinks`, { data: { setRelayState: 1 } })).body.downlink;
      // While the sender retries, uplinks are stored as ever.
      for (let i = 0; i < 5; i++) expect(await app.ingest("/ttn", ttsUplink({ devEui: TTS_DEV, fCnt: 100 + i }))).toBe(200);
      const tts = await untilState(app, TTS_DEV, toTts.id, "failed");
      expect(tts).toMatchObject({ attempts: 3, error: expect.stringMatching(/^attempt 3 of 3: The Things Stack at http:\/\/127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED$/) });
      const cs = await untilState(app, CS_DEV, toCs.id, "failed");
      expect(cs).toMatchObject({ attempts: 3, error: expect.stringMatching(/^attempt 3 of 3: ChirpStack API at 127\.0\.0\.1:\d+ is unreachable: UNAVAILABLE/) });
      const stored = await app.db.query<{ n: number }>("SELECT count(*)::int AS n FROM uplinks WHERE dev_eui = $1", [TTS_DEV]);
      expect(stored.rows[0].n).toBe(6);
      const metrics = await (await fetch(`${app.base}/metrics`)).text();
      for (const network of ["ttn", "chirpstack"]) {
        expect(metrics).toContain(`webhook_downlink_pushes_total{network="${network}",outcome="retry"} 2`);
        expect(metrics).toContain(`webhook_downlink_pushes_total{network="${network}",outcome="failed"} 1`);
      }
    });
  });
});

describe.each(DATABASES)("the sender's schedule on %s", (_name, factory) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await migratedDatabase(factory);
    await test.db.query("INSERT INTO devices (dev_eui, network, first_seen) VALUES ('70b3d52dd30050a1', 'ttn', now())");
  });
  afterAll(() => test.drop());

  it("waits for nothing when nothing is queued, and until the next try when one is", async () => {
    // An empty queue must not read as "due now": the sender would spin.
    expect(await nextDueInMs(test.db)).toBeNull();
    const downlink = await insertDownlink(test.db, {
      devEui: "70b3d52dd30050a1", network: "ttn", fPort: 1, bytes: Uint8Array.of(0xc1, 1), data: { setRelayState: 1 }, confirmed: false, purpose: "api", ref: null,
    });
    expect(await nextDueInMs(test.db)).toBe(0);
    await markPushFailed(test.db, downlink.id, "refused", 5000);
    const ms = await nextDueInMs(test.db);
    expect(ms).toBeGreaterThan(4000);
    expect(ms).toBeLessThanOrEqual(5000);
    await markPushed(test.db, downlink.id, "ref-1");
    expect(await nextDueInMs(test.db)).toBeNull();
  });
});

describe("downlink route configuration", () => {
  it("takes the TTS settings all together, the server's address with or without /api/v3", () => {
    const env = { TTS_API_URL: "https://eu1.cloud.thethings.network/api/v3/", TTS_API_KEY: TTS_KEY, TTS_WEBHOOK_ID: "aspm16" };
    expect(loadConfig(env).downlinks.tts).toEqual({ apiUrl: "https://eu1.cloud.thethings.network", apiKey: TTS_KEY, webhookId: "aspm16" });
    expect(loadConfig({}).downlinks).toEqual({ tts: undefined, chirpstack: undefined });
    expect(() => loadConfig({ TTS_API_URL: env.TTS_API_URL, TTS_API_KEY: TTS_KEY }))
      .toThrow("TTS_API_URL, TTS_API_KEY set without TTS_WEBHOOK_ID: sending downlinks through The Things Stack needs all of TTS_API_URL, TTS_API_KEY, TTS_WEBHOOK_ID");
    expect(() => loadConfig({ ...env, TTS_API_URL: "eu1.cloud.thethings.network" })).toThrow("TTS_API_URL=\"eu1.cloud.thethings.network\": expected the server's URL");
  });

  it("takes ChirpStack's gRPC API as host:port, or https://host:port for TLS", () => {
    expect(loadConfig({ CHIRPSTACK_API_URL: "chirpstack:8080", CHIRPSTACK_API_TOKEN: CS_TOKEN }).downlinks.chirpstack).toEqual({ apiUrl: "chirpstack:8080", apiToken: CS_TOKEN });
    expect(grpcTarget("chirpstack:8080")).toEqual({ address: "chirpstack:8080", tls: false });
    expect(grpcTarget("https://cs.example.com:443")).toEqual({ address: "cs.example.com:443", tls: true });
    expect(grpcTarget("http://cs.example.com:8080/")).toEqual({ address: "cs.example.com:8080", tls: false });
    expect(() => loadConfig({ CHIRPSTACK_API_URL: "chirpstack:8080" })).toThrow("CHIRPSTACK_API_URL set without CHIRPSTACK_API_TOKEN");
    expect(() => loadConfig({ CHIRPSTACK_API_URL: "https://chirpstack/api", CHIRPSTACK_API_TOKEN: CS_TOKEN })).toThrow("expected its gRPC API as host:port");
  });
});
