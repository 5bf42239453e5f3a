// What network servers really send (network-servers.md, "Details that real traffic shows"), over a real
// socket: fields left out mean their defaults, numbers take their protobuf type's range, a message
// without DevEUI is kept, ChirpStack's enums are stored in one form, and the fPort reaches the codec.
import integration from "@chirpstack/chirpstack-api/integration/integration_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryQuarantine } from "../../webhook/store/reingest";
import type { Database } from "../../webhook/db/database";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { chirpstackUplink, KEEP_ALIVE_B64, TOKEN, ttsUplink, unique } from "../support/messages";

describe.each(DATABASES)("accepting real traffic on %s", (_name, factory) => {
  let service: ApiApp;
  let base: string;
  let db: Database;

  beforeAll(async () => {
    service = await startApiApp(factory);
    ({ base, db } = service);
  });
  afterAll(() => service.close());

  async function post(path: string, body: unknown) {
    const protobuf = body instanceof Uint8Array;
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": protobuf ? "application/octet-stream" : "application/json" },
      body: protobuf ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  }
  const rows = async (sql: string, params: unknown[] = []) => (await db.query<Record<string, unknown>>(sql, params)).rows;

  it("stores TTS's float RSSI and SNR, and a frequency that is a 64-bit string", async () => {
    const devEui = "70b3d52dd30001a1";
    const body = ttsUplink({ devEui });
    body.uplink_message.rx_metadata = [{ gateway_ids: { gateway_id: "gw", eui: "B827EBFFFE000002" }, time: "2026-11-21T10:00:00Z", rssi: -60.5, channel_rssi: -60.5, snr: -7.25 }];
    body.uplink_message.settings.frequency = "923200000";
    expect((await post("/ttn", body)).status).toBe(200);
    expect(await rows("SELECT rssi, snr, frequency::text FROM uplinks WHERE dev_eui = $1", [devEui])).toEqual([{ rssi: -60.5, snr: -7.25, frequency: "923200000" }]);
  });

  it("takes integers written as strings, as protobuf JSON parsers do (64-bit ones are always strings)", async () => {
    const devEui = "70b3d52dd30001a9";
    const tts = ttsUplink({ devEui }) as unknown as { uplink_message: Record<string, unknown> };
    Object.assign(tts.uplink_message, { f_cnt: "4294967295", f_port: "2" });
    expect((await post("/ttn", tts)).status).toBe(200);
    const cs = { ...chirpstackUplink({ devEui: "70b3d52dd30001aa" }), fCnt: "812", fPort: "2" };
    expect((await post("/chirpstack?event=up", cs)).status).toBe(200);
    expect(await rows("SELECT dev_eui, f_cnt::text, f_port FROM uplinks WHERE dev_eui IN ($1, $2) ORDER BY dev_eui", [devEui, "70b3d52dd30001aa"])).toEqual([
      { dev_eui: devEui, f_cnt: "4294967295", f_port: 2 }, { dev_eui: "70b3d52dd30001aa", f_cnt: "812", f_port: 2 },
    ]);
  });

  it("takes null as a left-out field (protobuf JSON), and keeps nulls inside decoded objects", async () => {
    const devEui = "70b3d52dd30001ab";
    const tts = ttsUplink({ devEui }) as unknown as { uplink_message: Record<string, unknown> };
    Object.assign(tts.uplink_message, { f_cnt: null, settings: null, decoded_payload: null });
    expect((await post("/ttn", tts)).status).toBe(200);
    const cs = { ...chirpstackUplink({ devEui: "70b3d52dd30001ac" }), fCnt: null, txInfo: null, data: null, object: { keepAliveTime: 10, note: null } };
    expect((await post("/chirpstack?event=up", cs)).status).toBe(200);
    expect(await rows("SELECT dev_eui, f_cnt::integer, spreading_factor, decoded FROM uplinks WHERE dev_eui IN ($1, $2) ORDER BY dev_eui", [devEui, "70b3d52dd30001ac"])).toEqual([
      // A keep-alive alone: its reading holds it.
      { dev_eui: devEui, f_cnt: 0, spreading_factor: null, decoded: null },
      { dev_eui: "70b3d52dd30001ac", f_cnt: 0, spreading_factor: null, decoded: { keepAliveTime: 10 } },
    ]);
    const integration = { time: "2026-11-21T09:00:00Z", deviceInfo: { devEui: "70b3d52dd30001ac" }, integrationName: "x", object: { dnlink: null } };
    expect((await post("/chirpstack?event=integration", integration)).status).toBe(200);
    expect(await rows("SELECT data->'object' AS object FROM device_events WHERE dev_eui = $1 AND kind = 'integration'", ["70b3d52dd30001ac"])).toEqual([{ object: { dnlink: null } }]);
  });

  it("takes left-out f_cnt and f_port as 0 (TTS leaves out zero values), and stores the codec's fPort warning", async () => {
    const devEui = "70b3d52dd30001a2";
    const body = ttsUplink({ devEui }) as { uplink_message: Record<string, unknown> };
    delete body.uplink_message.f_cnt;
    delete body.uplink_message.f_port;
    expect((await post("/ttn", body)).status).toBe(200);
    expect(await rows("SELECT f_cnt::integer, f_port, decode_warnings FROM uplinks WHERE dev_eui = $1", [devEui])).toEqual([
      { f_cnt: 0, f_port: 0, decode_warnings: ["fPort 0: expected 2; decoded anyway"] },
    ]);
    // The keep-alive is still read: a warning, not an error.
    expect(await rows("SELECT power_w FROM readings WHERE dev_eui = $1", [devEui])).toEqual([{ power_w: 1497 }]);
  });

  it("takes a ChirpStack uplink without fCnt, fPort or deduplicationId (protobuf JSON leaves out defaults)", async () => {
    const devEui = "70b3d52dd30001a3";
    const { fCnt: _c, fPort: _p, deduplicationId: _d, ...body } = chirpstackUplink({ devEui });
    const first = await post("/chirpstack?event=up", body);
    expect(first).toEqual({ status: 200, body: { status: "stored", type: "uplink", devEui } });
    // The same body again is the same uplink.
    expect((await post("/chirpstack?event=up", body)).body.status).toBe("duplicate");
    expect(await rows("SELECT f_cnt::integer, f_port FROM uplinks WHERE dev_eui = $1", [devEui])).toEqual([{ f_cnt: 0, f_port: 0 }]);
  });

  it("stores a ChirpStack ack without `acknowledged` as a nack", async () => {
    const devEui = "70b3d52dd30001a4";
    const ack = { deduplicationId: unique(), time: "2026-11-21T09:30:00Z", deviceInfo: { devEui }, queueItemId: "q-1", fCntDown: 4 };
    expect((await post("/chirpstack?event=ack", ack)).status).toBe(200);
    expect((await post("/chirpstack?event=ack", { ...ack, deduplicationId: unique(), acknowledged: true })).status).toBe(200);
    expect(await rows("SELECT kind, data->'acknowledged' AS acknowledged FROM device_events WHERE dev_eui = $1 ORDER BY kind", [devEui])).toEqual([
      { kind: "downlink_ack", acknowledged: true }, { kind: "downlink_nack", acknowledged: false },
    ]);
  });

  it("stores a ChirpStack log event's enums by name whether JSON or protobuf sent them, defaults included", async () => {
    const devEui = "70b3d52dd30001a5";
    const json = { time: "2026-11-21T09:00:00Z", deviceInfo: { devEui }, level: "ERROR", code: "UPLINK_CODEC", description: "json", context: { k: "v" } };
    const event = new integration.LogEvent();
    const info = new integration.DeviceInfo();
    info.setDevEui(devEui);
    event.setDeviceInfo(info);
    event.setLevel(integration.LogLevel.ERROR);
    event.setCode(integration.LogCode.UPLINK_CODEC);
    event.setDescription("protobuf");
    event.getContextMap().set("k", "v");
    // Left out in JSON: level INFO, code UNKNOWN.
    const defaults = { time: "2026-11-21T09:02:00Z", deviceInfo: { devEui }, description: "defaults" };
    for (const body of [json, event.serializeBinary(), defaults]) expect((await post("/chirpstack?event=log", body)).status).toBe(200);
    const logs = await rows("SELECT data->>'description' AS d, data->>'level' AS level, data->>'code' AS code, data->'context' AS context FROM device_events WHERE dev_eui = $1 ORDER BY 1", [devEui]);
    expect(logs).toEqual([
      { d: "defaults", level: "INFO", code: "UNKNOWN", context: null },
      { d: "json", level: "ERROR", code: "UPLINK_CODEC", context: { k: "v" } },
      { d: "protobuf", level: "ERROR", code: "UPLINK_CODEC", context: { k: "v" } },
    ]);
  });

  it("keeps a TTS message without DevEUI: stored under its device when known, quarantined until then, and re-ingested", async () => {
    const devEui = "70b3d52dd30001a6";
    const application = `app-${unique()}`;
    const ids = { device_id: "plug-abp", application_ids: { application_id: application } };
    const first = { ...ttsUplink({ id: unique() }), end_device_ids: ids };
    const quarantined = await post("/ttn", first);
    expect(quarantined.status).toBe(202);
    expect(quarantined.body).toMatchObject({ status: "quarantined", type: "uplink", devEui: null, reason: expect.stringMatching(/^no DevEUI, and no device ttn application ".+" device "plug-abp" is known yet/) });

    // The device's first message with its DevEUI makes it known: later messages without one find it.
    expect((await post("/ttn", { ...ttsUplink({ devEui, time: "2026-11-21T11:00:00Z" }), end_device_ids: { ...ids, dev_eui: devEui.toUpperCase() } })).status).toBe(200);
    const failed = { end_device_ids: ids, correlation_ids: ["as:downlink:x"], downlink_failed: { downlink: { f_port: 1, frm_payload: "AhQS" }, error: { name: "x", code: 3 } } };
    expect(await post("/ttn", failed)).toEqual({ status: 200, body: { status: "stored", type: "event", devEui } });

    // The quarantined uplink goes in once asked to.
    const report = await retryQuarantine(db);
    expect(report).toMatchObject({ stored: 1, kept: [] });
    expect(await rows("SELECT count(*)::integer AS n FROM uplinks WHERE dev_eui = $1", [devEui])).toEqual([{ n: 2 }]);
    expect(await rows("SELECT count(*)::integer AS n FROM quarantine WHERE application = $1", [application])).toEqual([{ n: 0 }]);
  });

  it("accepts numbers over the columns' range (within the protobuf type), quarantines that record, and says why", async () => {
    const devEui = "70b3d52dd30001a7";
    const body = ttsUplink({ devEui, payload: KEEP_ALIVE_B64 });
    body.uplink_message.f_port = 0xffff_ffff;
    const answer = await post("/ttn", body);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: "quarantined", reason: expect.stringMatching(/^the database refused it: .*out of range.* \(SQLSTATE 22003\)$/) });
    expect(await rows("SELECT dev_eui, kind, sqlstate FROM quarantine WHERE dev_eui = $1", [devEui])).toEqual([{ dev_eui: devEui, kind: "uplink", sqlstate: "22003" }]);
  });

  it("stores NaN and infinite floats (protobuf JSON's strings) as unknown", async () => {
    const devEui = "70b3d52dd30001a8";
    const body = ttsUplink({ devEui }) as unknown as { uplink_message: { rx_metadata: Record<string, unknown>[] } };
    body.uplink_message.rx_metadata = [{ rssi: "NaN", snr: "-Infinity" }];
    expect((await post("/ttn", body)).status).toBe(200);
    expect(await rows("SELECT rssi, snr, gateway_count FROM uplinks WHERE dev_eui = $1", [devEui])).toEqual([{ rssi: null, snr: null, gateway_count: 1 }]);
  });
});
