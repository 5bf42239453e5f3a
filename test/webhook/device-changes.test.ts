// PATCH /api/devices/{devEui} {"name"} and DELETE /api/devices/{devEui} over a real socket, on PGlite and
// PostgreSQL (contract §4, "Device names and removal"): a user's name outlives the network's, null returns
// to it; a removal erases the plug from the fleet and keeps its energy history unless asked to erase it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiApp, type ApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { storeKeepAlives } from "../support/keepalives";
import { ttsUplink } from "../support/messages";

const NAMED = "70b3d52dd3005001";
const KEPT = "70b3d52dd3005002";
const ERASED = "70b3d52dd3005003";
const DAY = 86_400_000;
const START = Math.floor(Date.now() / DAY - 3) * DAY;

/** A TTS uplink of `devEui` under the network's device id `deviceId`, `payloadHex` or a keep-alive. */
function uplink(devEui: string, deviceId: string, payloadHex?: string) {
  const message = ttsUplink({ devEui, time: new Date().toISOString(), payload: payloadHex && Buffer.from(payloadHex, "hex").toString("base64") });
  message.end_device_ids.device_id = deviceId;
  return message;
}

describe.each(DATABASES)("device names and removal on %s", (_name, factory) => {
  let service: ApiApp;
  beforeAll(async () => {
    service = await startApiApp(factory);
  });
  afterAll(async () => {
    await service?.close();
  });
  const name = async (devEui: string) => ({
    api: (await service.api("GET", `/devices/${devEui}`)).body.name,
    // What dashboards read.
    view: (await service.db.query<{ name: string }>("SELECT name FROM device_status WHERE dev_eui = $1", [devEui])).rows[0]?.name,
  });

  it("keeps a name set through the API when the network server sends its own, and returns to the network's on null", async () => {
    expect(await service.ingest("/ttn", uplink(NAMED, "plug-1"))).toBe(200);
    expect(await name(NAMED)).toEqual({ api: "plug-1", view: "plug-1" });

    const renamed = await service.api("PATCH", `/devices/${NAMED.toUpperCase()}`, { name: "  Fridge, kitchen  " });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ devEui: NAMED, name: "Fridge, kitchen" });

    // The network renames the device: its name is kept aside, the user's stays.
    expect(await service.ingest("/ttn", uplink(NAMED, "plug-renamed-in-tts"))).toBe(200);
    expect(await name(NAMED)).toEqual({ api: "Fridge, kitchen", view: "Fridge, kitchen" });
    expect((await service.api("PATCH", `/devices/${NAMED}`, { name: "Freezer" })).body.name).toBe("Freezer");

    // null: the network's latest name again, and the network's names apply from then on.
    expect((await service.api("PATCH", `/devices/${NAMED}`, { name: null })).body.name).toBe("plug-renamed-in-tts");
    expect(await service.ingest("/ttn", uplink(NAMED, "plug-1"))).toBe(200);
    expect(await name(NAMED)).toEqual({ api: "plug-1", view: "plug-1" });
  });

  it.each([
    [{ name: "   " }, 400, "body/name is blank: give a name, or null to return to the network server's name"],
    [{}, 400, "body must have required property 'name'"],
    [{ name: "x", nmae: "y" }, 400, "body/nmae is not a field"],
    [{ name: "x".repeat(201) }, 400, "body/name must NOT have more than 200 characters"],
  ])("refuses PATCH %j with %i naming what is wrong", async (body, status, message) => {
    const answer = await service.api("PATCH", `/devices/${NAMED}`, body);
    expect(answer.status).toBe(status);
    expect(answer.body.message).toContain(message);
  });

  it("answers 404 for an unknown plug, 400 for a malformed DevEUI, 401 without an api token", async () => {
    for (const method of ["PATCH", "DELETE"] as const) {
      const body = method === "PATCH" ? { name: "x" } : undefined;
      const unknown = await service.api(method, "/devices/00000000000000ff", body);
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toContain("device 00000000000000ff is not known");
      expect((await service.api(method, "/devices/0000", body)).body.message).toContain("params/devEui must match pattern");
      expect((await service.api(method, `/devices/${NAMED}`, body, null)).status).toBe(401);
    }
    expect((await service.api("DELETE", `/devices/${NAMED}?history=gone`)).body.message).toBe("querystring/history must be one of keep, erase");
  });

  /** Rows of `devEui` in each table. */
  const rows = async (devEui: string) => {
    const counts: Record<string, number> = {};
    for (const table of ["devices", "uplinks", "readings", "readings_hourly", "readings_daily", "device_events", "downlinks", "keepalive_desired", "keepalive_changes"]) {
      counts[table] = Number((await service.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE dev_eui = $1`, [devEui])).rows[0].n);
    }
    return counts;
  };
  /** Two days of keep-alives, a response (an event), a downlink and a desired keep-alive period. */
  const history = async (devEui: string) => {
    await storeKeepAlives(service.db, devEui, Array.from({ length: 288 }, (_, i) => ({ time: new Date(START + i * 600_000).toISOString(), energyWh: 1000 + i * 10 })));
    expect(await service.ingest("/ttn", uplink(devEui, `plug-${devEui}`, "120f011c034a241805d9e7195201"))).toBe(200);
    const { rows: [downlink] } = await service.db.query<{ id: string }>(
      "INSERT INTO downlinks (dev_eui, network, f_port, bytes, data, state) VALUES ($1, 'ttn', 1, '\\x020f12', '{\"setKeepAlive\": 15}', 'failed') RETURNING id", [devEui]);
    await service.db.query("INSERT INTO keepalive_desired (dev_eui, minutes, requested_at, last_downlink_id) VALUES ($1, 15, now(), $2)", [devEui, downlink.id]);
    await service.db.query("INSERT INTO keepalive_changes (dev_eui, at, from_minutes, to_minutes, cause) VALUES ($1, now(), NULL, 15, 'api')", [devEui]);
  };

  it("removes a plug from the fleet and keeps its energy history", async () => {
    await history(KEPT);
    const before = await rows(KEPT);
    const fleet = async () => (await service.api("GET", `/energy?period=day&from=${new Date(START).toISOString().slice(0, 10)}`)).body.points;
    const fleetBefore = await fleet();

    const removed = await service.api("DELETE", `/devices/${KEPT.toUpperCase()}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({
      devEui: KEPT,
      erased: { keepalive_changes: 1, keepalive_desired: 1, downlinks: 1, device_events: before.device_events, devices: 1 },
      kept: ["readings", "readings_hourly", "readings_daily", "uplinks"],
    });
    expect(before.device_events).toBeGreaterThan(0);
    expect(await rows(KEPT)).toEqual({ ...before, devices: 0, device_events: 0, downlinks: 0, keepalive_desired: 0, keepalive_changes: 0 });
    expect((await service.api("GET", `/devices/${KEPT}`)).status).toBe(404);
    expect((await service.api("GET", "/devices")).body.devices.map((d: { devEui: string }) => d.devEui)).not.toContain(KEPT);
    // Energy that was used stays in the fleet's totals.
    expect(await fleet()).toEqual(fleetBefore);
    expect((await service.api("DELETE", `/devices/${KEPT}`)).status).toBe(404);

    // Heard from again, it is a device again, with its history.
    expect(await service.ingest("/ttn", uplink(KEPT, "plug-back"))).toBe(200);
    expect((await service.api("GET", `/devices/${KEPT}`)).body).toMatchObject({ name: "plug-back", keepalive: { desired: null, state: "unknown" } });
    expect((await rows(KEPT)).readings).toBe(before.readings + 1);
  });

  it("erases a plug's history too with ?history=erase", async () => {
    await history(ERASED);
    const before = await rows(ERASED);
    const removed = await service.api("DELETE", `/devices/${ERASED}?history=erase`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ devEui: ERASED, erased: { ...before }, kept: [] });
    expect(Object.values(await rows(ERASED))).toEqual(Array(9).fill(0));
    // Nothing of another plug went with it.
    expect((await rows(NAMED)).devices).toBe(1);
  });
});
