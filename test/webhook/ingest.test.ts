import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import type { Database } from "../../webhook/db/database";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import {
  b64, chirpstackJoinProtobuf, chirpstackUplink, chirpstackUplinkProtobuf, TOKEN, ttsUplink, unique,
} from "../support/messages";

const SECOND_TOKEN = "rotated-token-fedcba9876543210";

describe.each(DATABASES)("webhook ingest on %s", (_name, factory) => {
  let test: TestDatabase;
  let db: Database;
  let app: FastifyInstance;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    db = test.db;
    app = await buildApp({ db, tokens: [TOKEN, SECOND_TOKEN] });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  function post(url: string, body: unknown, headers: Record<string, string> = {}) {
    const payload = typeof body === "string" || body instanceof Uint8Array ? Buffer.from(body as never) : JSON.stringify(body);
    return app.inject({
      method: "POST", url, payload,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    });
  }

  const rows = async <R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.query<R>(sql, params)).rows;

  it("stores a TTS keep-alive as an uplink, a reading and device state", async () => {
    const devEui = "70B3D52DD30000A1";
    const response = await post("/ttn", ttsUplink({ devEui }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "stored", type: "uplink", devEui: devEui.toLowerCase() });

    const [reading] = await rows(`SELECT time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on FROM readings WHERE dev_eui = $1`, [devEui.toLowerCase()]);
    expect(reading).toEqual({
      time: new Date("2026-11-21T10:00:01.001Z"), temperature_c: 28, energy_wh: expect.anything(), power_w: 1497,
      voltage_v: 231, current_ma: 6482, relay_on: true,
    });
    expect(Number(reading.energy_wh)).toBe(55190552);

    const [uplink] = await rows(`SELECT f_cnt::int, f_port, encode(payload, 'hex') AS payload, rssi, snr, gateway_count, spreading_factor,
      frequency::bigint::text, simulated, decode_errors, decoded->>'power_W' AS power FROM uplinks WHERE dev_eui = $1`, [devEui.toLowerCase()]);
    expect(uplink).toEqual({
      f_cnt: 4711, f_port: 2, payload: "011c034a241805d9e7195201", rssi: -97, snr: 7.25, gateway_count: 2, spreading_factor: 9,
      // A keep-alive alone is held by its reading: the uplink keeps its bytes, not a second decoded copy.
      frequency: "868300000", simulated: false, decode_errors: null, power: null,
    });

    const [device] = await rows(`SELECT name, application, network, last_seen, last_keepalive_at, relay_on FROM devices WHERE dev_eui = $1`, [devEui.toLowerCase()]);
    expect(device).toEqual({
      name: "plug-kitchen", application: "energy-demo", network: "ttn",
      last_seen: new Date("2026-11-21T10:00:01.001Z"), last_keepalive_at: new Date("2026-11-21T10:00:01.001Z"), relay_on: true,
    });
  });

  it("stores a ChirpStack JSON uplink: its response updates the device, its keep-alive is a reading", async () => {
    const devEui = "70b3d52dd30000a2";
    const response = await post("/chirpstack?event=up", chirpstackUplink({ devEui }));
    expect(response.statusCode).toBe(200);
    const [reading] = await rows(`SELECT power_w, voltage_v FROM readings WHERE dev_eui = $1`, [devEui]);
    expect(reading).toEqual({ power_w: 1497, voltage_v: 231 });
    const [device] = await rows(`SELECT keepalive_minutes, name, application, network FROM devices WHERE dev_eui = $1`, [devEui]);
    expect(device).toEqual({ keepalive_minutes: 10, name: "plug-office", application: "energy", network: "chirpstack" });
    const events = await rows(`SELECT kind, data FROM device_events WHERE dev_eui = $1`, [devEui]);
    expect(events).toEqual([{ kind: "keepAliveTime", data: { keepAliveTime: 10 } }]);
    const [uplink] = await rows(`SELECT rssi, snr, gateway_count, spreading_factor, bandwidth_hz, frequency::int FROM uplinks WHERE dev_eui = $1`, [devEui]);
    expect(uplink).toEqual({ rssi: -36, snr: 10.5, gateway_count: 1, spreading_factor: 7, bandwidth_hz: 125000, frequency: 868100000 });
  });

  it("stores a ChirpStack protobuf uplink, and takes the same uplink in JSON as a duplicate", async () => {
    const devEui = "70b3d52dd30000a3";
    const id = `pb-${unique()}`;
    const body = chirpstackUplinkProtobuf({ devEui, id, data: b64("B1 00 " + "01 85 00 00 10 00 00 00 E6 00 00 00") });
    const response = await post("/chirpstack?event=up", body, { "content-type": "application/octet-stream" });
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("stored");
    const [reading] = await rows(`SELECT time, temperature_c, energy_wh::int, relay_on FROM readings WHERE dev_eui = $1`, [devEui]);
    expect(reading).toEqual({ time: new Date("2026-11-21T10:00:01.123Z"), temperature_c: -5, energy_wh: 4096, relay_on: false });
    const [uplink] = await rows(`SELECT to_char(received_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS t, rssi, snr, spreading_factor, frequency::int FROM uplinks WHERE dev_eui = $1`, [devEui]);
    expect(uplink).toEqual({ t: "10:00:01.123456", rssi: -80, snr: 5.5, spreading_factor: 10, frequency: 868500000 });

    const json = chirpstackUplink({ devEui, id, time: "2026-11-21T10:00:01.123456Z", data: b64("B1 00 01 85 00 00 10 00 00 00 E6 00 00 00") });
    const again = await post("/chirpstack?event=up", json);
    expect(again.json().status).toBe("duplicate");
    expect(await rows(`SELECT count(*)::int AS n FROM uplinks WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 1 }]);
  });

  it("turns a response-only uplink into device state and events, with no reading", async () => {
    const devEui = "70b3d52dd30000a4";
    const payload = b64("12 0F 1F 5A 3C 21 00 FA F5 04 12 10 23 0B 25 07 D0 5F 02");
    expect((await post("/ttn", ttsUplink({ devEui, payload }))).statusCode).toBe(200);
    expect(await rows(`SELECT count(*)::int AS n FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 0 }]);
    const [device] = await rows(`SELECT keepalive_minutes, hardware_version, software_version, overheating_trigger_c,
      overvoltage_trigger_v, overcurrent_threshold_a, overpower_threshold_w, settings->'relayRecoveryState' AS recovery,
      last_keepalive_at FROM devices WHERE dev_eui = $1`, [devEui]);
    expect(device).toEqual({
      keepalive_minutes: 15, hardware_version: "1.2", software_version: "1.0", overheating_trigger_c: 90,
      overvoltage_trigger_v: 250, overcurrent_threshold_a: 11, overpower_threshold_w: 2000, recovery: 2, last_keepalive_at: null,
    });
    const kinds = await rows<{ kind: string }>(`SELECT kind FROM device_events WHERE dev_eui = $1 ORDER BY dedup_key`, [devEui]);
    expect(kinds.map((k) => k.kind).sort()).toEqual(
      ["deviceVersions", "keepAliveTime", "overcurrentThreshold", "overheatingThresholds", "overpowerThreshold", "overvoltageThreshold", "relayRecoveryState"],
    );
  });

  it("keeps the newest settings when an older uplink arrives late", async () => {
    const devEui = "70b3d52dd30000a5";
    await post("/ttn", ttsUplink({ devEui, payload: b64("12 0F"), time: "2026-11-21T12:00:00Z" }));
    await post("/ttn", ttsUplink({ devEui, payload: b64("12 05 04 12 10"), time: "2026-11-21T11:00:00Z" }));
    const [device] = await rows(`SELECT keepalive_minutes, hardware_version, settings_at FROM devices WHERE dev_eui = $1`, [devEui]);
    expect(device).toEqual({ keepalive_minutes: 15, hardware_version: "1.2", settings_at: new Date("2026-11-21T12:00:00Z") });
  });

  it("records a manual switch as an event and as the relay state", async () => {
    const devEui = "70b3d52dd30000a6";
    await post("/ttn", ttsUplink({ devEui, payload: b64("5D 00"), time: "2026-11-21T13:00:00Z" }));
    expect(await rows(`SELECT relay_on, relay_at FROM devices WHERE dev_eui = $1`, [devEui])).toEqual([{ relay_on: false, relay_at: new Date("2026-11-21T13:00:00Z") }]);
    expect(await rows(`SELECT kind, data FROM device_events WHERE dev_eui = $1`, [devEui])).toEqual([{ kind: "manualChangeRelayState", data: { manualChangeRelayState: false } }]);
  });

  // 2025 firmware (16aspm-protocol.md "Newer commands"): responses in front of the keep-alive.
  it("reads a 2025-firmware uplink whole: the relay timer as a setting, the change reason as an event, the keep-alive", async () => {
    const devEui = "70b3d52dd30000ab";
    await post("/ttn", ttsUplink({ devEui, payload: b64("54 03 58 01 00 3C 01 1C 03 4A 24 18 05 D9 E7 19 52 01"), time: "2026-11-21T14:00:00Z" }));
    const [device] = await rows(`SELECT settings FROM devices WHERE dev_eui = $1`, [devEui]);
    expect(device.settings).toEqual({ relayTimerInSeconds: { state: 1, time: 60 } });
    expect(await rows(`SELECT kind, data FROM device_events WHERE dev_eui = $1 AND kind = 'relayStateChangeReason'`, [devEui]))
      .toEqual([{ kind: "relayStateChangeReason", data: { relayStateChangeReason: 3 } }]);
    expect(await rows(`SELECT power_w FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([{ power_w: 1497 }]);
  });

  it("keeps an undecodable uplink, with the codec's errors, and answers 200", async () => {
    const devEui = "70b3d52dd30000a7";
    const response = await post("/ttn", ttsUplink({ devEui, payload: b64("01 1C 03") }));
    expect(response.statusCode).toBe(200);
    const [uplink] = await rows(`SELECT encode(payload, 'hex') AS payload, decode_errors FROM uplinks WHERE dev_eui = $1`, [devEui]);
    expect(uplink).toEqual({ payload: "011c03", decode_errors: ["keepAlive (0x01) at byte 0 is cut short: needs 12 bytes, only 3 left"] });
    expect(await rows(`SELECT count(*)::int AS n FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 0 }]);
  });

  it("uses the network's decoded object when the raw bytes are absent (vendor field names)", async () => {
    const devEui = "70b3d52dd30000a8";
    const body = ttsUplink({ devEui });
    const { frm_payload: _, ...uplinkMessage } = body.uplink_message;
    const vendor = { internalTemperature: 21, energy_kWh: 12.345, power_W: 40, acVoltage_V: 229, acCurrent_mA: 180, relayState: "ON" };
    await post("/ttn", { ...body, uplink_message: { ...uplinkMessage, decoded_payload: vendor } });
    expect(await rows(`SELECT temperature_c, energy_wh::int, power_w, relay_on FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([
      { temperature_c: 21, energy_wh: 12345, power_w: 40, relay_on: true },
    ]);
  });

  it("keeps a simulated uplink, marked, without a reading or device state", async () => {
    const devEui = "70b3d52dd30000a9";
    expect((await post("/ttn", ttsUplink({ devEui, simulated: true }))).statusCode).toBe(200);
    expect(await rows(`SELECT simulated FROM uplinks WHERE dev_eui = $1`, [devEui])).toEqual([{ simulated: true }]);
    expect(await rows(`SELECT count(*)::int AS n FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 0 }]);
    expect(await rows(`SELECT last_seen, relay_on FROM devices WHERE dev_eui = $1`, [devEui])).toEqual([{ last_seen: null, relay_on: null }]);
  });

  it("stores the same uplink sent twice once", async () => {
    const devEui = "70b3d52dd30000b1";
    const body = ttsUplink({ devEui });
    expect((await post("/ttn", body)).json().status).toBe("stored");
    expect((await post("/ttn", body)).json().status).toBe("duplicate");
    expect(await rows(`SELECT count(*)::int AS n FROM uplinks WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 1 }]);
    expect(await rows(`SELECT count(*)::int AS n FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 1 }]);
  });

  it("stores an uplink sent by concurrent requests once", async () => {
    const devEui = "70b3d52dd30000b2";
    const body = chirpstackUplink({ devEui });
    const responses = await Promise.all(Array.from({ length: 12 }, () => post("/chirpstack?event=up", body)));
    const statuses = responses.map((r) => r.json().status).sort();
    expect(statuses).toEqual([...Array(11).fill("duplicate"), "stored"]);
    expect(await rows(`SELECT count(*)::int AS n FROM uplinks WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 1 }]);
    expect(await rows(`SELECT count(*)::int AS n FROM device_events WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 1 }]);
  });

  it("deduplicates uplinks without a message id on device, f_cnt, payload and time", async () => {
    const devEui = "70b3d52dd30000b3";
    const body = ttsUplink({ devEui });
    body.correlation_ids = ["rpc:/ttn.lorawan.v3.AppAs/x"];
    expect((await post("/ttn", body)).json().status).toBe("stored");
    expect((await post("/ttn", body)).json().status).toBe("duplicate");
    expect((await post("/ttn", { ...body, uplink_message: { ...body.uplink_message, f_cnt: 4712 } })).json().status).toBe("stored");
  });

  it("records the other TTS message types and ChirpStack events as device events", async () => {
    const devEui = "70b3d52dd30000b4";
    const ids = { device_id: "plug-x", dev_eui: devEui, application_ids: { application_id: "energy-demo" } };
    for (const [type, data] of [["join_accept", { session_key_id: "AYZ" }], ["downlink_ack", { f_port: 1, frm_payload: "Ag8=" }], ["downlink_failed", { error: { message_format: "x" } }]] as const) {
      const response = await post("/ttn", { end_device_ids: ids, correlation_ids: [`as:${type}:${unique()}`], received_at: "2026-11-21T09:00:00Z", [type]: data });
      expect(response.json()).toEqual({ status: "stored", type: "event", devEui });
    }
    const cs = await post("/chirpstack?event=ack", { deduplicationId: unique(), time: "2026-11-21T09:30:00Z", deviceInfo: { devEui, deviceName: "plug-x" }, acknowledged: false, fCntDown: 4 });
    expect(cs.statusCode).toBe(200);
    const join = await post("/chirpstack?event=join", chirpstackJoinProtobuf(devEui, unique()), { "content-type": "application/octet-stream" });
    expect(join.statusCode).toBe(200);
    const events = await rows<{ kind: string; network: string }>(`SELECT kind, network FROM device_events WHERE dev_eui = $1 ORDER BY time, kind, network`, [devEui]);
    expect(events).toEqual([
      { kind: "downlink_ack", network: "ttn" }, { kind: "downlink_failed", network: "ttn" }, { kind: "join", network: "chirpstack" },
      { kind: "join", network: "ttn" }, { kind: "downlink_nack", network: "chirpstack" },
    ]);
    expect(await rows(`SELECT last_seen FROM devices WHERE dev_eui = $1`, [devEui])).toEqual([{ last_seen: new Date("2026-11-21T09:00:00Z") }]);
  });

  it("commits every accepted request before close resolves", async () => {
    const devEui = "70b3d52dd30000b5";
    const local = await buildApp({ db, tokens: [TOKEN] });
    const pending = Array.from({ length: 40 }, (_, i) =>
      local.inject({ method: "POST", url: "/ttn", payload: ttsUplink({ devEui, fCnt: i, time: `2026-11-21T14:${String(i).padStart(2, "0")}:00Z` }), headers: { authorization: `Bearer ${TOKEN}` } }));
    const responses = await Promise.all(pending);
    await local.close();
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(await rows(`SELECT count(*)::int AS n FROM readings WHERE dev_eui = $1`, [devEui])).toEqual([{ n: 40 }]);
  });

  it("counts what it did in /metrics", async () => {
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toMatch(/^webhook_uplinks_stored_total\{network="ttn"\} [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_duplicates_total\{network="chirpstack"\} [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_decode_errors_total [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_batch_size_count [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_database_seconds_count [1-9]\d*$/m);
  });

  it("answers /healthz and /readyz", async () => {
    expect((await app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await app.inject({ method: "GET", url: "/readyz" })).json()).toEqual({ status: "ready", database: db.kind, spool: { records: 0, bytes: 0 } });
  });

  // Refused requests are tested over a real socket in bad-input.test.ts.
  it("accepts the second token of a rotation", async () => {
    const response = await post("/ttn", ttsUplink({ devEui: "70b3d52dd30000c2" }), { authorization: `Bearer ${SECOND_TOKEN}` });
    expect(response.statusCode).toBe(200);
  });
});
