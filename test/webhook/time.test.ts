// Times are checked, not trusted: a network server with a wrong clock (one uplink stamped 9999-12-31, or
// 1970) must not freeze a plug's state; the message is kept, its time noted. And times read back from the
// database, PGlite as PostgreSQL, equal what was stored, whatever the year.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withBelievableTime } from "../../webhook/ingest/records";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { keepAliveBytes, uplinkRecord } from "../support/keepalives";
import { chirpstackUplink, ttsUplink } from "../support/messages";

const keepAlive = (powerW: number) => Buffer.from(keepAliveBytes({ time: "", energyWh: 1000, powerW, currentMa: 5000 })).toString("base64");

describe("withBelievableTime", () => {
  const arrival = new Date("2026-12-03T09:00:00.000Z");
  const record = (time: string) => uplinkRecord("70b3d52dd3000abc", time, new Uint8Array([1]));

  it("believes times from 2015 up to a day ahead of the service's clock", () => {
    for (const time of ["2015-01-01T00:00:00Z", "2026-12-03T09:00:00.123456789Z", "2026-12-04T08:59:59+00:00", "2020-06-01T12:00:00+05:30"]) {
      expect(withBelievableTime(record(time), arrival)).toEqual(record(time));
    }
  });

  it.each([
    ["9999-12-31T23:59:59Z", "more than a day ahead of the service's clock (2026-12-03T09:00:00.000Z)"],
    ["2026-12-04T09:00:01Z", "more than a day ahead of the service's clock (2026-12-03T09:00:00.000Z)"],
    ["2014-12-31T23:59:59.999999Z", "before 2015"],
    ["0001-01-01T00:00:00.000000001+00:00", "before 2015"],
  ])("takes the arrival time for %s, noting the network's", (time, why) => {
    expect(withBelievableTime(record(time), arrival)).toEqual({
      ...record(time), receivedAt: "2026-12-03T09:00:00.000Z",
      timeNote: `the network's time ${time} was not believed (${why}): the time the service received the message is used`,
    });
  });
});

describe.each(DATABASES)("a network server's wrong clock on %s", (_name, factory) => {
  let service: ApiApp;
  beforeAll(async () => {
    service = await startApiApp(factory);
  });
  afterAll(() => service.close());

  const status = async (devEui: string) => (await service.db.query<{ last_seen: Date; online: boolean; power_w: number; relay_on: boolean }>(
    "SELECT last_seen, online, power_w, relay_on FROM device_status WHERE dev_eui = $1", [devEui])).rows[0];
  const warnings = async (devEui: string) => (await service.db.query<{ received_at: Date; decode_warnings: string[] | null }>(
    "SELECT received_at, decode_warnings FROM uplinks WHERE dev_eui = $1 ORDER BY received_at", [devEui])).rows;

  type Send = (time: string, power: number, n: number) => readonly [string, unknown];
  it.each<[string, string, Send]>([
    ["TTS", "70b3d52dd3001001", (time: string, power: number, n: number) => ["/ttn", ttsUplink({ devEui: "70B3D52DD3001001", time, payload: keepAlive(power), fCnt: n })] as const],
    ["ChirpStack", "70b3d52dd3001002", (time: string, power: number, n: number) => ["/chirpstack?event=up", chirpstackUplink({ devEui: "70b3d52dd3001002", time, data: keepAlive(power), fCnt: n })] as const],
  ])("%s: one uplink stamped 9999-12-31T23:59:59Z is kept, noted, and the plug's later uplinks still move its state", async (_network, devEui, uplink) => {
    const now = Date.now();
    const send = (time: string, power: number, n: number) => service.ingest(uplink(time, power, n)[0], uplink(time, power, n)[1]);
    expect(await send(new Date(now - 20 * 60_000).toISOString(), 100, 1)).toBe(200);
    const before = Date.now();
    expect(await send("9999-12-31T23:59:59Z", 200, 2)).toBe(200);
    const after = Date.now();
    const real = new Date(Date.now() + 1000).toISOString();
    expect(await send(real, 300, 3)).toBe(200);

    const state = await status(devEui);
    expect(state.last_seen.toISOString()).toBe(real);
    expect(state.power_w).toBe(300);
    expect(state.online).toBe(true);
    // The wrong-clock uplink is kept, at the time it arrived, with the network's time in its warnings.
    const rows = await warnings(devEui);
    expect(rows).toHaveLength(3);
    const noted = rows.filter((r) => r.decode_warnings?.some((w) => w.includes("9999-12-31T23:59:59")));
    expect(noted).toHaveLength(1);
    expect(noted[0].decode_warnings![0]).toMatch(/^the network's time 9999-12-31T23:59:59(\.0+)?(Z|\+00:00) was not believed \(more than a day ahead of the service's clock/);
    expect(noted[0].received_at.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(noted[0].received_at.getTime()).toBeLessThanOrEqual(after + 1);
  });

  it("an uplink stamped before 2015 (a clock never set) is kept at its arrival time and counts as seen now", async () => {
    const devEui = "70b3d52dd3001003";
    expect(await service.ingest("/ttn", ttsUplink({ devEui: devEui.toUpperCase(), time: "1970-01-01T00:00:00Z", payload: keepAlive(42) }))).toBe(200);
    const state = await status(devEui);
    expect(Math.abs(state.last_seen.getTime() - Date.now())).toBeLessThan(60_000);
    expect(state.power_w).toBe(42);
    expect((await warnings(devEui))[0].decode_warnings?.[0]).toMatch(/^the network's time 1970-01-01T00:00:00Z was not believed \(before 2015\)/);
  });
});

describe.each(DATABASES)("times read back from %s", (_name, factory) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await migratedDatabase(factory);
  });
  afterAll(() => test.drop());

  const times = ["0001-01-01T00:00:00.000Z", "0050-06-15T12:34:56.789Z", "0099-12-31T23:59:59.999Z", "0100-01-01T00:00:00.000Z",
    "1969-12-31T23:59:59.000Z", "1999-01-01T00:00:00.000Z", "2026-12-03T09:00:00.123Z", "9999-12-31T23:59:59.000Z"];

  it.each(times)("%s equals what was stored (a parameter, a row, an array)", async (iso) => {
    const { rows: [row] } = await test.db.query<{ param: Date; text: Date; plain: Date; list: Date[] }>(
      "SELECT $1::timestamptz AS param, $2::timestamptz AS text, ($2::timestamptz AT TIME ZONE 'UTC') AS plain, ARRAY[$2::timestamptz] AS list",
      [new Date(iso), iso]);
    expect(row.param.toISOString()).toBe(iso);
    expect(row.text.toISOString()).toBe(iso);
    expect(row.list.map((d) => d.toISOString())).toEqual([iso]);
    expect(row.plain).toBeInstanceOf(Date);
  });

  it("rows stored with every year read back as stored", async () => {
    await test.db.query("CREATE TABLE stored_times (time timestamptz NOT NULL)");
    for (const iso of times) await test.db.query("INSERT INTO stored_times VALUES ($1)", [iso]);
    const { rows } = await test.db.query<{ time: Date }>("SELECT time FROM stored_times ORDER BY time");
    expect(rows.map((r) => r.time.toISOString())).toEqual(times);
  });
});
