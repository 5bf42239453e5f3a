// GET /api/devices and /api/devices/{devEui} over a real socket (contract §4): the device object built from
// what TTS and ChirpStack sent, and the device_keepalive view dashboards read, with the same airtime figures.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { keepAliveAirtime } from "../../webhook/keepalive/airtime";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { API_TOKEN, chirpstackUplink, TOKEN, ttsUplink } from "../support/messages";

describe.each(DATABASES)("device API on %s", (_name, factory) => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    test = await migratedDatabase(factory);
    app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 1000 });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  const ingest = async (path: string, body: unknown) => {
    const answer = await fetch(`${base}${path}`, {
      method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
  };
  const get = async (path: string, token = API_TOKEN) => {
    const answer = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: answer.status, body: await answer.json() as Record<string, any> };
  };
  /** An uplink at SF`sf` (TTS), `minutesAgo` before now so that online state is deterministic. */
  const ttsAt = (devEui: string, sf: number, minutesAgo: number, payload?: string) => {
    const message = ttsUplink({ devEui, time: new Date(Date.now() - minutesAgo * 60_000).toISOString(), payload });
    message.uplink_message.settings.data_rate.lora.spreading_factor = sf;
    return message;
  };

  it("answers a TTS plug's device object: latest reading, online, keep-alive unknown, airtime at 10 min", async () => {
    await ingest("/ttn", ttsAt("70B3D52DD3001001", 9, 5));
    const { status, body } = await get("/api/devices/70B3D52DD3001001");
    expect(status).toBe(200);
    expect(body).toEqual({
      devEui: "70b3d52dd3001001", name: "plug-kitchen", application: "energy-demo", network: "ttn",
      online: true, lastSeen: expect.any(String), lastReadingAt: body.lastSeen,
      power_W: 1497, energy_Wh: 55190552, acVoltage_V: 231, acCurrent_mA: 6482, internalTemperature: 28, relayState: "ON",
      keepalive: { desired: null, reported: null, state: "unknown", lastDownlinkAt: null, attempts: 0, mode: "fixed", target: null, reason: null },
      // The one uplink sent 5 minutes ago: a 25-byte frame at SF9.
      airtime: { ...keepAliveAirtime(9, 125_000, 10), periodMinutes: 10, measuredSecondsLast24h: keepAliveAirtime(9, 125_000, 10).keepAliveMs / 1000 },
    });
    // The worked table's SF9 row: 205.8 ms, 29.6 s a day at 10 min.
    expect(body.airtime.keepAliveMs).toBeCloseTo(205.8, 1);
    expect(body.airtime.secondsPerDay).toBeCloseTo(29.6, 1);
  });

  it("takes the reported period from a ChirpStack 12 response, and the airtime at it", async () => {
    // 12 0F (15 min) in front of a keep-alive, at SF7.
    await ingest("/chirpstack?event=up", chirpstackUplink({
      devEui: "70b3d52dd3001002", time: new Date().toISOString(), data: Buffer.from("120f011c034a241805d9e7195201", "hex").toString("base64"),
    }));
    const { body } = await get("/api/devices/70b3d52dd3001002");
    expect(body).toMatchObject({
      network: "chirpstack", application: "energy", name: "plug-office", online: true,
      keepalive: { desired: null, reported: 15, state: "unknown", attempts: 0 },
      airtime: { spreadingFactor: 7, bandwidthHz: 125_000, periodMinutes: 15 },
    });
    expect(body.airtime.secondsPerDay).toBeCloseTo(1440 / 15 * 0.061696, 6);
  });

  it("takes the slowest of the recent uplinks' data rates, so the limits hold when ADR slows the plug down", async () => {
    const devEui = "70b3d52dd3001003";
    for (const [sf, ago] of [[7, 30], [12, 20], [9, 10]]) await ingest("/ttn", ttsAt(devEui, sf, ago));
    const { body } = await get(`/api/devices/${devEui}`);
    expect(body.airtime.spreadingFactor).toBe(12);
    expect(body.airtime.minMinutesFairUse).toBeCloseTo(71.2, 1);
  });

  it("has no airtime before an uplink has named a spreading factor, and no reading before a keep-alive", async () => {
    // A 12 response alone (no keep-alive), without radio metadata.
    const message = ttsAt("70b3d52dd3001004", 7, 1, Buffer.from("120a", "hex").toString("base64")) as Record<string, any>;
    delete message.uplink_message.settings;
    await ingest("/ttn", message);
    const { body } = await get("/api/devices/70B3D52DD3001004");
    expect(body).toMatchObject({ power_W: null, energy_Wh: null, lastReadingAt: null, relayState: null, airtime: null, keepalive: { reported: 10 } });
  });

  it("lists every device, ordered by devEui", async () => {
    const { status, body } = await get("/api/devices");
    expect(status).toBe(200);
    expect(body.devices.map((d: { devEui: string }) => d.devEui)).toEqual(["70b3d52dd3001001", "70b3d52dd3001002", "70b3d52dd3001003", "70b3d52dd3001004"]);
  });

  it("answers 404 naming an unknown device, 400 for a malformed devEui, 401 without an api token", async () => {
    expect(await get("/api/devices/70b3d52dd30010ff")).toEqual({
      status: 404,
      body: { statusCode: 404, error: "Not Found", message: "device 70b3d52dd30010ff is not known: it appears once the service has received an uplink or join from it" },
    });
    const malformed = await get("/api/devices/not-a-eui");
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toContain("params/devEui must match pattern");
    expect((await get("/api/devices", TOKEN)).status).toBe(401);
  });

  it("gives dashboards the same figures in the device_keepalive view", async () => {
    const { rows } = await test.db.query<Record<string, unknown>>(
      `SELECT dev_eui, desired_minutes, reported_minutes, state, spreading_factor, bandwidth_hz, period_minutes,
         keepalive_ms, seconds_per_day, min_minutes_duty_cycle, min_minutes_fair_use FROM device_keepalive ORDER BY dev_eui`);
    const { body } = await get("/api/devices");
    expect(rows).toHaveLength(4);
    rows.forEach((row, i) => {
      const device = body.devices[i];
      expect(row).toMatchObject({ dev_eui: device.devEui, desired_minutes: null, reported_minutes: device.keepalive.reported, state: "unknown" });
      if (device.airtime === null) return expect(row.spreading_factor).toBeNull();
      expect(row).toMatchObject({ spreading_factor: device.airtime.spreadingFactor, bandwidth_hz: 125_000, period_minutes: device.airtime.periodMinutes });
      for (const [column, field] of [["keepalive_ms", "keepAliveMs"], ["seconds_per_day", "secondsPerDay"],
        ["min_minutes_duty_cycle", "minMinutesDutyCycle"], ["min_minutes_fair_use", "minMinutesFairUse"]]) {
        expect(Number(row[column])).toBeCloseTo(device.airtime[field], 9);
      }
    });
  });
});
