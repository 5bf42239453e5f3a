// Keep-alive management end to end (contract §4, keepalive-airtime.md), over real sockets: the service, a real
// HTTP server standing in for The Things Stack's downlink queue and a real gRPC server with ChirpStack's own
// DeviceService definition. PUT → `02 NN 12` pushed → the network's downlink events → the plug's `12 NN`
// report → in_sync; no report → retries with backoff → failed; a plug reporting another period → corrected;
// the network refusing; the airtime policy; every bad request refused with nothing sent.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { type ApiApp, API_TOKEN, startApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { chirpstackTxAck, ttsDownlinkEvent } from "../support/downlink-events";
import { chirpstackUplink, TOKEN, ttsUplink } from "../support/messages";
import { type ChirpStackStandIn, chirpstackStandIn, type TtsStandIn, ttsStandIn, until } from "../support/network-apis";

const TTS_KEY = "NNSXS.TESTKEY.0123456789ABCDEF";
const CHIRPSTACK_KEY = "chirpstack-api-key-0123456789";
const WEBHOOK_ID = "aspm16";
const KEEP_ALIVE = "011c034a241805d9e7195201";
const MINUTE = 60_000;

const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

describe.each(DATABASES)("keep-alive management on %s", (_name, factory) => {
  let tts: TtsStandIn;
  let chirpstack: ChirpStackStandIn;
  let app: ApiApp;
  /** The reconciler's clock: tests move it on instead of waiting for minutes to pass. */
  let clock = Date.now();
  let devices = 0;

  beforeAll(async () => {
    tts = await ttsStandIn();
    chirpstack = await chirpstackStandIn();
    app = await startApiApp(factory, {
      downlinks: {
        tts: { apiUrl: tts.url, apiKey: TTS_KEY, webhookId: WEBHOOK_ID },
        chirpstack: { apiUrl: chirpstack.address, apiToken: CHIRPSTACK_KEY },
        // The network API refusing: 2 pushes, 20 ms apart, then failed.
        retry: { maxAttempts: 2, delaysMs: [20] },
      },
      keepalive: { intervalMs: 20, now: () => new Date(clock) },
    });
  });
  afterAll(async () => {
    await app?.close();
    await tts?.close();
    await chirpstack?.close();
  });
  beforeEach(() => {
    tts.answer = () => ({ status: 200, body: "{}" });
  });

  /** A new TTS plug, heard at `sf` with a keep-alive (and `extra` bytes in front of it). */
  async function ttsPlug(sf = 9, extra = ""): Promise<{ devEui: string; deviceId: string }> {
    const devEui = `70b3d52dd301${(devices++).toString(16).padStart(4, "0")}`;
    const deviceId = `plug-${devEui.slice(-4)}`;
    await ttsReport(devEui, deviceId, extra, sf);
    return { devEui, deviceId };
  }
  async function ttsReport(devEui: string, deviceId: string, extra: string, sf = 9): Promise<void> {
    const message = ttsUplink({ devEui: devEui.toUpperCase(), payload: b64(extra + KEEP_ALIVE), time: new Date().toISOString() });
    message.end_device_ids.device_id = deviceId;
    message.uplink_message.settings.data_rate.lora.spreading_factor = sf;
    expect(await app.ingest("/ttn", message)).toBe(200);
  }
  async function chirpstackReport(devEui: string, extra: string): Promise<void> {
    expect(await app.ingest("/chirpstack?event=up", chirpstackUplink({ devEui, data: b64(extra + KEEP_ALIVE), time: new Date().toISOString() }))).toBe(200);
  }
  const device = async (devEui: string) => (await app.api("GET", `/devices/${devEui}`)).body;
  const downlinksOf = async (devEui: string) => (await app.api("GET", `/devices/${devEui}/downlinks`)).body.downlinks as Record<string, unknown>[];
  const pushesTo = (deviceId: string) => tts.calls.filter((c) => c.path.includes(`/devices/${deviceId}/`));
  /** Moves the reconciler's clock on and waits for a pass after it. */
  async function advance(ms: number): Promise<void> {
    clock += ms;
    await app.app.keepalive.reconcile();
  }

  it("TTS: PUT → 02 0F 12 pushed byte for byte → downlink events → the plug reports 15 → in_sync", async () => {
    const { devEui, deviceId } = await ttsPlug(9);
    const put = await app.api("PUT", `/devices/${devEui.toUpperCase()}/keepalive`, { minutes: 15 });
    expect(put.status).toBe(202);
    expect(put.body).toEqual({
      downlink: expect.objectContaining({ devEui, network: "ttn", fPort: 1, bytes: "020f12", data: { setKeepAlive: 15, getKeepAliveTime: true }, confirmed: false }),
      warnings: [],
    });
    const [push] = await until(() => pushesTo(deviceId).length === 1 && pushesTo(deviceId), "the push to TTS");
    expect(push.method).toBe("POST");
    expect(push.path).toBe(`/api/v3/as/applications/energy-demo/webhooks/${WEBHOOK_ID}/devices/${deviceId}/down/push`);
    expect(push.headers.authorization).toBe(`Bearer ${TTS_KEY}`);
    const correlationIds = JSON.parse(push.body).downlinks[0].correlation_ids as string[];
    expect(push.body).toBe(JSON.stringify({ downlinks: [{ f_port: 1, frm_payload: "Ag8S", priority: "NORMAL", confirmed: false, correlation_ids: correlationIds }] }));

    expect((await device(devEui)).keepalive).toEqual({
      desired: 15, reported: null, state: "pending", lastDownlinkAt: expect.any(String), attempts: 1,
      mode: "fixed", target: null, reason: "15 min: fixed, as set through the API",
    });

    for (const type of ["downlink_queued", "downlink_sent"] as const) {
      expect(await app.ingest("/ttn", ttsDownlinkEvent(type, { devEui, deviceId, correlationIds, frmPayload: "Ag8S" }))).toBe(200);
    }
    expect((await downlinksOf(devEui))[0]).toMatchObject({ bytes: "020f12", state: "sent" });
    expect((await device(devEui)).keepalive.state).toBe("pending");

    // The answer rides in front of the next keep-alive: 12 0F.
    await ttsReport(devEui, deviceId, "120f");
    expect((await device(devEui)).keepalive).toMatchObject({ desired: 15, reported: 15, state: "in_sync", attempts: 1 });
    const { rows } = await app.db.query(`SELECT desired_minutes, reported_minutes, state FROM device_keepalive WHERE dev_eui = $1`, [devEui]);
    expect(rows).toEqual([{ desired_minutes: 15, reported_minutes: 15, state: "in_sync" }]);

    // In sync: however long the reconciler runs, nothing more is sent.
    await advance(24 * 60 * MINUTE);
    await advance(24 * 60 * MINUTE);
    expect(pushesTo(deviceId)).toHaveLength(1);
  });

  it("ChirpStack: PUT → Enqueue over gRPC with the API key → txack → the plug reports 20 → in_sync", async () => {
    const devEui = "70b3d52dd3020001";
    await chirpstackReport(devEui, "120a");
    expect((await device(devEui)).keepalive).toMatchObject({ desired: null, reported: 10, state: "unknown" });
    const before = chirpstack.calls.length;
    const put = await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 20 });
    expect(put.status).toBe(202);
    const call = await until(() => chirpstack.calls.length > before && chirpstack.calls[before], "the Enqueue call");
    expect(call).toEqual({ authorization: [`Bearer ${CHIRPSTACK_KEY}`], devEui, fPort: 1, confirmed: false, data: Buffer.from("021412", "hex"), flushQueue: false });
    // The queue item id ChirpStack answered, kept once the sender has it, ties its txack to the downlink.
    const queueItemId = await until(async () => {
      const { rows: [row] } = await app.db.query<{ network_ref: string | null }>(`SELECT network_ref FROM downlinks WHERE id = $1`, [put.body.downlink.id]);
      return row.network_ref ?? undefined;
    }, "the queue item id");
    expect(queueItemId).toMatch(/^00000000-0000-4000-8000-\d{12}$/);
    expect(await app.ingest("/chirpstack?event=txack", chirpstackTxAck(devEui, queueItemId))).toBe(200);
    expect((await downlinksOf(devEui))[0]).toMatchObject({ id: put.body.downlink.id, state: "sent" });
    await chirpstackReport(devEui, "1214");
    expect((await device(devEui)).keepalive).toMatchObject({ desired: 20, reported: 20, state: "in_sync", attempts: 1 });
  });

  it("sends again after 3, 6 and 12 periods without a report, then marks the round failed", async () => {
    const { devEui, deviceId } = await ttsPlug(7, "120a");
    expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 20 })).status).toBe(202);
    await until(() => pushesTo(deviceId).length === 1, "the first push");
    // Not yet due: 3 periods of 20 minutes have not passed.
    await advance(59 * MINUTE);
    expect((await device(devEui)).keepalive).toMatchObject({ state: "pending", attempts: 1 });
    for (const [wait, attempts] of [[1 * MINUTE, 2], [120 * MINUTE, 3], [240 * MINUTE, 4]]) {
      await advance(wait);
      await until(() => pushesTo(deviceId).length === attempts, `push ${attempts}`);
      expect((await device(devEui)).keepalive).toMatchObject({ desired: 20, reported: 10, state: "pending", attempts });
    }
    expect(pushesTo(deviceId).map((p) => JSON.parse(p.body).downlinks[0].frm_payload)).toEqual(["AhQS", "AhQS", "AhQS", "AhQS"]);
    await advance(479 * MINUTE);
    expect((await device(devEui)).keepalive.state).toBe("pending");
    await advance(1 * MINUTE);
    expect((await device(devEui)).keepalive).toEqual({
      desired: 20, reported: 10, state: "failed", lastDownlinkAt: expect.any(String), attempts: 4,
      error: "the plug reports 10 min, not 20, after 4 downlinks", mode: "fixed", target: null, reason: "20 min: fixed, as set through the API",
    });
    await advance(24 * 60 * MINUTE);
    expect(pushesTo(deviceId)).toHaveLength(4);

    // Heard reporting another period later: the next pass starts a new round.
    await ttsReport(devEui, deviceId, "120f", 7);
    await advance(0);
    expect((await device(devEui)).keepalive.state).toBe("pending");
    await until(() => pushesTo(deviceId).length === 5, "the push of a new round");
    expect((await device(devEui)).keepalive).toMatchObject({ state: "pending", attempts: 1 });
    await ttsReport(devEui, deviceId, "1214", 7);
    expect((await device(devEui)).keepalive).toMatchObject({ state: "in_sync", reported: 20 });
  });

  it("corrects a plug that reports another period after it was in sync", async () => {
    const { devEui, deviceId } = await ttsPlug(8);
    await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 30 });
    await until(() => pushesTo(deviceId).length === 1, "the first push");
    await ttsReport(devEui, deviceId, "121e", 8);
    await advance(0);
    expect((await device(devEui)).keepalive).toMatchObject({ state: "in_sync", attempts: 1 });
    // Someone sets 10 minutes in the network server's console.
    await ttsReport(devEui, deviceId, "120a", 8);
    expect((await device(devEui)).keepalive).toMatchObject({ desired: 30, reported: 10, state: "pending" });
    await advance(MINUTE);
    const [, second] = await until(() => pushesTo(deviceId).length === 2 && pushesTo(deviceId), "the correction");
    expect(JSON.parse(second.body).downlinks[0].frm_payload).toBe(b64("021e12"));
    expect((await device(devEui)).keepalive).toMatchObject({ state: "pending", attempts: 1 });
    await ttsReport(devEui, deviceId, "121e", 8);
    expect((await device(devEui)).keepalive).toMatchObject({ state: "in_sync", reported: 30 });
  });

  it("marks the round failed with the network's error when its API refuses the downlink", async () => {
    const { devEui, deviceId } = await ttsPlug(9);
    tts.answer = (call) => call.path.includes(deviceId) ? { status: 403, body: '{"code":7,"message":"no rights"}' } : { status: 200, body: "{}" };
    expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 })).status).toBe(202);
    const keepalive = await until(async () => {
      const k = (await device(devEui)).keepalive;
      return k.state === "failed" && k;
    }, "the failed state");
    expect(pushesTo(deviceId)).toHaveLength(2);
    expect(keepalive.error).toMatch(/^downlink \d+ failed: .*403/);
    expect(keepalive.error).not.toContain(TTS_KEY);
  });

  it("refuses a period below the duty-cycle minimum unless forced, naming the plug's SF and the minimum", async () => {
    const { devEui, deviceId } = await ttsPlug(12);
    const refused = await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 2 });
    expect(refused).toMatchObject({ status: 400, body: { statusCode: 400, error: "Bad Request" } });
    expect(refused.body.message).toBe("minutes: 2 is below the least period AIRTIME_POLICY=duty-cycle allows at SF12 at 125 kHz " +
      "(1482.8 ms per keep-alive): 3 min (the 1 % duty cycle); send \"force\": true to set it anyway");
    expect((await device(devEui)).keepalive).toMatchObject({ desired: null, state: "unknown" });

    const forced = await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 2, force: true });
    expect(forced.status).toBe(202);
    expect(forced.body.downlink.bytes).toBe("020212");
    expect(forced.body.warnings).toEqual([
      "setKeepAlive: below 3 minutes the device sends only when the duty cycle allows; 10 or more is recommended",
      expect.stringMatching(/^2 min is below the 1 % duty-cycle minimum of 2\.47 min at SF12/),
      expect.stringMatching(/over TTN's fair-use 30 s; its minimum is 71\.2 min$/),
      "set with force: AIRTIME_POLICY=duty-cycle allows 3 min or more for this plug",
    ]);
    await until(() => pushesTo(deviceId).length === 1, "the forced push");
    // Allowed by the duty cycle but over TTN's fair use: accepted, with the warning.
    const allowed = await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 10 });
    expect(allowed.status).toBe(202);
    expect(allowed.body.warnings).toEqual([expect.stringMatching(/^10 min uses 213\.5 s of airtime a day at SF12 .* its minimum is 71\.2 min$/)]);
  });

  it("warns on TTS when a plug has had more than TTN's 10 downlinks a day", async () => {
    const { devEui, deviceId } = await ttsPlug(7);
    for (let i = 1; i <= 10; i++) expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 })).body.warnings).toEqual([]);
    expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 })).body.warnings)
      .toEqual(["this plug has had more than 10 downlinks in 24 h: TTN's fair-use policy allows 10 a day"]);
    await until(() => pushesTo(deviceId).length === 11, "11 pushes");
  });

  it("applies AIRTIME_POLICY=ttn-fair-use: refuses what breaks the 30 s a day", async () => {
    const { devEui } = await ttsPlug(12);
    const strict: FastifyInstance = await buildApp({ db: app.db, tokens: [TOKEN], apiTokens: [API_TOKEN], airtimePolicy: "ttn-fair-use", keepalive: { intervalMs: 60 * MINUTE } });
    try {
      const answer = await strict.inject({ method: "PUT", url: `/api/devices/${devEui}/keepalive`, headers: { authorization: `Bearer ${API_TOKEN}` }, payload: { minutes: 60 } });
      expect(answer.statusCode).toBe(400);
      expect(answer.json().message).toContain("AIRTIME_POLICY=ttn-fair-use allows at SF12 at 125 kHz (1482.8 ms per keep-alive): 72 min");
    } finally {
      await strict.close();
    }
    expect((await device(devEui)).keepalive.desired).toBeNull();
  });

  it("answers 409 naming the settings to configure when the plug's network has no downlink route, and records nothing", async () => {
    const devEui = "70b3d52dd3030001";
    expect(await app.ingest("/chirpstack?event=up", chirpstackUplink({ devEui, time: new Date().toISOString() }))).toBe(200);
    // The same database, served by an instance configured with no downlink route.
    const unrouted: FastifyInstance = await buildApp({ db: app.db, tokens: [TOKEN], apiTokens: [API_TOKEN], keepalive: { intervalMs: 60 * MINUTE } });
    try {
      const answer = await unrouted.inject({ method: "PUT", url: `/api/devices/${devEui}/keepalive`, headers: { authorization: `Bearer ${API_TOKEN}` }, payload: { minutes: 15 } });
      expect(answer.statusCode).toBe(409);
      expect(answer.json()).toMatchObject({ statusCode: 409, error: "Conflict", message: expect.stringContaining("set CHIRPSTACK_API_URL and CHIRPSTACK_API_TOKEN") });
    } finally {
      await unrouted.close();
    }
    expect((await device(devEui)).keepalive).toMatchObject({ desired: null, state: "unknown" });
    expect(await downlinksOf(devEui)).toEqual([]);
  });

  it("queues no downlink when the desired period cannot be recorded: both are committed together or neither", async () => {
    const { devEui, deviceId } = await ttsPlug(9);
    await app.db.query(`CREATE FUNCTION refuse_desired() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.dev_eui = '${devEui}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await app.db.query("CREATE TRIGGER refuse_desired BEFORE INSERT OR UPDATE ON keepalive_desired FOR EACH ROW EXECUTE FUNCTION refuse_desired()");
    try {
      expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 })).status).toBe(500);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the sender would have pushed by now
      expect(await downlinksOf(devEui)).toEqual([]);
      expect(pushesTo(deviceId)).toEqual([]);
      expect((await device(devEui)).keepalive).toMatchObject({ desired: null });
    } finally {
      await app.db.query("DROP TRIGGER refuse_desired ON keepalive_desired");
      await app.db.query("DROP FUNCTION refuse_desired()");
    }
    expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 })).status).toBe(202);
  });

  it("refuses every bad request with a message naming what is wrong, and sends nothing", async () => {
    const { devEui, deviceId } = await ttsPlug(7);
    const ttsBefore = tts.calls.length;
    const chirpstackBefore = chirpstack.calls.length;
    const cases: [unknown, string][] = [
      [{ minutes: 0 }, "body/minutes: setKeepAlive: 0 is out of range; allowed 1..255 (minutes)"],
      [{ minutes: 256 }, "body/minutes: setKeepAlive: 256 is out of range; allowed 1..255 (minutes)"],
      [{ minutes: 15.5 }, "body/minutes: setKeepAlive: 15.5 is not an integer; allowed 1..255 (minutes)"],
      [{ minutes: "x" }, "body/minutes: setKeepAlive: expected a number in 1..255 (minutes), got \"x\""],
      [{ minutes: null }, "body/minutes: setKeepAlive: expected a number in 1..255 (minutes), got null"],
      [{}, "body must have required property 'minutes'"],
      [{ minutes: 2, forse: true }, 'body/forse is not a field; expected {"minutes": 1..255, "force"?: boolean, "adapt"?: boolean}'],
    ];
    for (const [body, message] of cases) {
      expect(await app.api("PUT", `/devices/${devEui}/keepalive`, body)).toMatchObject({ status: 400, body: { statusCode: 400, error: "Bad Request", message } });
    }
    expect(await app.api("PUT", "/devices/70b3d52dd30fffff/keepalive", { minutes: 15 })).toMatchObject({
      status: 404, body: { message: "device 70b3d52dd30fffff is not known: it appears once the service has received an uplink or join from it" },
    });
    expect((await app.api("PUT", "/devices/70b3d52dd30fffff0/keepalive", { minutes: 15 })).body.message).toContain("params/devEui must match pattern");
    expect(await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 }, null)).toMatchObject({ status: 401 });
    expect(await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 }, "wrong-token-0123456789abcdef")).toMatchObject({ status: 401 });
    expect(await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 15 }, TOKEN)).toMatchObject({ status: 401, body: { message: "invalid bearer token" } });
    for (const body of [{ minutes: 0, devices: [devEui] }, { minutes: 15 }, { minutes: 15, device: [devEui] }, { minutes: 15, devices: [devEui], application: "energy-demo" }, { minutes: 15, devices: ["x"] }, { minutes: 15, devices: [] }]) {
      expect((await app.api("PUT", "/keepalive", body)).status).toBe(400);
    }
    expect((await app.api("PUT", "/keepalive", { minutes: 15, application: "no-such-application" })).status).toBe(404);

    await advance(MINUTE);
    expect(tts.calls.length).toBe(ttsBefore);
    expect(chirpstack.calls.length).toBe(chirpstackBefore);
    expect(pushesTo(deviceId)).toHaveLength(0);
    expect(await downlinksOf(devEui)).toEqual([]);
    expect((await device(devEui)).keepalive).toMatchObject({ desired: null, state: "unknown" });
  });

  it("sets many plugs by list or application, one result each", async () => {
    const a = await ttsPlug(7);
    const b = await ttsPlug(7);
    const unknown = "70b3d52dd30ffffe";
    const byList = await app.api("PUT", "/keepalive", { minutes: 12, devices: [a.devEui.toUpperCase(), b.devEui, unknown] });
    expect(byList.status).toBe(202);
    expect(byList.body.results).toEqual([
      { devEui: a.devEui, status: 202, downlink: expect.objectContaining({ bytes: "020c12" }), warnings: [] },
      { devEui: b.devEui, status: 202, downlink: expect.objectContaining({ bytes: "020c12" }), warnings: [] },
      { devEui: unknown, status: 404, error: expect.stringContaining(`device ${unknown} is not known`) },
    ]);
    await until(() => pushesTo(a.deviceId).length === 1 && pushesTo(b.deviceId).length === 1, "both pushes");

    const byApplication = await app.api("PUT", "/keepalive", { minutes: 11, application: "energy" });
    expect(byApplication.status).toBe(202);
    // The ChirpStack application holds the plugs of the ChirpStack and 409 tests, and only those.
    const chirpstackResult = (devEui: string) => ({ devEui, status: 202, downlink: expect.objectContaining({ bytes: "020b12", network: "chirpstack" }), warnings: [] });
    expect(byApplication.body.results).toEqual([chirpstackResult("70b3d52dd3020001"), chirpstackResult("70b3d52dd3030001")]);
  });
});
