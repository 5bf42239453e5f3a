// The energy reads and the CSV export over a real socket, on PGlite and PostgreSQL: their figures are the
// rollups' (energy_hourly / energy_daily, contract §3), whatever the range, period, zone or filter.
import type { FastifyInstance } from "fastify";
import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnergyRow, energyByDevice, energyHours } from "../../webhook/api/energy";
import { buildApp } from "../../webhook/app";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { storeKeepAlives } from "../support/keepalives";
import { API_TOKEN, TOKEN } from "../support/messages";

const A = "a1b2c3d4e5f6a001";
const B = "a1b2c3d4e5f6a002";
const DAY = 86_400_000;
// Four whole UTC days, a week ago; 10-minute keep-alives, 30 Wh each for A; B resets its counter on day 2.
const START = Math.floor(Date.now() / DAY - 7) * DAY;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DATABASES)("energy reads on %s", (_name, factory) => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    test = await migratedDatabase(factory);
    const times = Array.from({ length: 4 * 144 }, (_, i) => START + i * 600_000);
    await storeKeepAlives(test.db, A, times.map((t, i) => ({ time: iso(t), energyWh: 1000 + i * 30, powerW: 180 })));
    await storeKeepAlives(test.db, B, times.filter((_, i) => i % 3 === 0).map((t, i) => ({ time: iso(t), energyWh: i === 100 ? 7 : i > 100 ? 7 + (i - 100) * 11 : 500 + i * 11 })));
    // A name a spreadsheet would run as a formula, and a second application.
    await test.db.query(`UPDATE devices SET name = '=HYPERLINK("http://x")', application = 'other' WHERE dev_eui = $1`, [B]);
    app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 1000 });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app?.close();
    await test?.drop();
  });

  const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${API_TOKEN}` }) => fetch(`${base}${path}`, { headers });
  const json = async <T>(path: string): Promise<T> => {
    const answer = await get(path);
    expect(answer.status, `${path}: ${await answer.clone().text()}`).toBe(200);
    return answer.json() as Promise<T>;
  };
  const csv = async (path: string) => {
    const answer = await get(path);
    expect(answer.status, path).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(answer.headers.get("content-disposition")).toMatch(/^attachment; filename="energy-(hour|day)-[\d-]+(-[0-9a-f]{16})?\.csv"$/);
    return parseCsv(await answer.text(), { columns: true }) as { dev_eui: string; name: string; period_start: string; energy_wh: string }[];
  };
  const rollup = async (view: "energy_hourly" | "energy_daily", column: "hour" | "day", from: number, to: number) =>
    (await test.db.query<{ dev_eui: string; start: Date; energy_wh: string }>(
      `SELECT dev_eui, ${column} AS start, energy_wh FROM ${view} WHERE ${column} >= $1 AND ${column} < $2 ORDER BY dev_eui, ${column}`,
      [iso(from), iso(to)])).rows.map((r) => ({ dev_eui: r.dev_eui, period_start: r.start.toISOString(), energy_wh: String(r.energy_wh) }));

  it.each([
    ["day", "energy_daily", "day", START, START + 4 * DAY],
    ["day", "energy_daily", "day", START + 13 * 3_600_000, START + 3 * DAY + 5 * 3_600_000],
    ["hour", "energy_hourly", "hour", START + 30 * 3_600_000, START + 41 * 3_600_000],
  ] as const)("exports per %s exactly the rows of %s", async (period, view, column, from, to) => {
    const rows = await csv(`/api/export/energy.csv?period=${period}&from=${iso(from)}&to=${iso(to)}`);
    const expected = await rollup(view, column, from, to);
    // Hours stream in time order, days come by plug.
    if (period === "hour") expected.sort((a, b) => a.period_start.localeCompare(b.period_start) || a.dev_eui.localeCompare(b.dev_eui));
    expect(expected.length).toBeGreaterThan(0);
    expect(rows.map(({ name: _name, ...row }) => row)).toEqual(expected);
    const total = (list: { energy_wh: string }[]) => list.reduce((sum, r) => sum + Number(r.energy_wh), 0);
    expect(total(rows)).toBe(total(expected));
  });

  it("streams the hours page by page, each row once, whatever the page size", async () => {
    const from = new Date(START + 5 * 3_600_000), to = new Date(START + 3 * DAY);
    const all = await energyByDevice(test.db, { period: "hour", from, to });
    const inTimeOrder = [...all].sort((a, b) => a.period_start.getTime() - b.period_start.getTime() || a.dev_eui.localeCompare(b.dev_eui));
    for (const pageRows of [1, 7, 48, all.length, all.length + 1]) {
      const streamed: EnergyRow[] = [];
      for await (const row of energyHours(test.db, { period: "hour", from, to }, pageRows)) streamed.push(row);
      expect(streamed, `pages of ${pageRows}`).toEqual(inTimeOrder);
    }
  });

  it("exports the CSV header of the contract, names as text, one device on request", async () => {
    const answer = await get(`/api/export/energy.csv?period=day&from=${iso(START)}&to=${iso(START + 4 * DAY)}`);
    expect((await answer.text()).split("\r\n")[0] ?? "").toMatch(/^dev_eui,name,period_start,energy_wh\n?/);
    const rows = await csv(`/api/export/energy.csv?period=day&from=${iso(START)}&to=${iso(START + 4 * DAY)}&devEui=${B.toUpperCase()}`);
    expect(new Set(rows.map((r) => r.dev_eui))).toEqual(new Set([B]));
    expect(rows[0].name).toBe(`'=HYPERLINK("http://x")`);
    // 4 days × 144 keep-alives × 30 Wh, but the first reading counts nothing.
    const a = await csv(`/api/export/energy.csv?period=day&from=${iso(START)}&to=${iso(START + 4 * DAY)}&devEui=${A}`);
    expect(a.reduce((sum, r) => sum + Number(r.energy_wh), 0)).toBe((4 * 144 - 1) * 30);
  });

  it("answers a plug's energy per day and hour as the rollups hold it", async () => {
    const from = START, to = START + 4 * DAY;
    const { points } = await json<{ points: { time: string; energy_Wh: number }[] }>(`/api/devices/${A.toUpperCase()}/energy?period=day&from=${iso(from)}&to=${iso(to)}`);
    expect(points).toEqual((await rollup("energy_daily", "day", from, to)).filter((r) => r.dev_eui === A).map((r) => ({ time: r.period_start, energy_Wh: Number(r.energy_wh) })));
    expect(points.map((p) => p.energy_Wh)).toEqual([143 * 30, 144 * 30, 144 * 30, 144 * 30]);
    const hours = await json<{ points: { energy_Wh: number }[] }>(`/api/devices/${A}/energy?period=hour&from=${iso(from + DAY)}&to=${iso(from + DAY + 6 * 3_600_000)}`);
    expect(hours.points.map((p) => p.energy_Wh)).toEqual(Array(6).fill(6 * 30));
  });

  it("sums the fleet per day, and filters it by application", async () => {
    const range = `from=${iso(START)}&to=${iso(START + 4 * DAY)}`;
    const fleet = await json<{ points: { time: string; energy_Wh: number; devices: number }[] }>(`/api/energy?period=day&${range}`);
    const daily = await rollup("energy_daily", "day", START, START + 4 * DAY);
    expect(fleet.points).toEqual([0, 1, 2, 3].map((d) => {
      const day = daily.filter((r) => r.period_start === iso(START + d * DAY));
      return { time: iso(START + d * DAY), energy_Wh: day.reduce((s, r) => s + Number(r.energy_wh), 0), devices: day.length };
    }));
    const other = await json<{ points: { devices: number }[] }>(`/api/energy?period=day&${range}&application=other`);
    expect(other.points.every((p) => p.devices === 1)).toBe(true);
    const perDevice = await json<{ devices: { devEui: string; points: unknown[] }[] }>(`/api/energy/devices?period=day&${range}&application=analytics-test`);
    expect(perDevice.devices.map((d) => [d.devEui, d.points.length])).toEqual([[A, 4]]);
  });

  it("cuts days at the midnights of the zone asked for, losing nothing", async () => {
    // Berlin midnights (UTC+1 in winter, +2 in summer): whole local days inside the data.
    const zone = "Europe/Berlin";
    const offsetHours = Number(new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "shortOffset" }).formatToParts(new Date(START + DAY)).find((p) => p.type === "timeZoneName")!.value.slice(4) || 0);
    const from = START + DAY - offsetHours * 3_600_000, to = from + 2 * DAY;
    const local = await json<{ points: { time: string; energy_Wh: number }[] }>(`/api/devices/${A}/energy?period=day&tz=${zone}&from=${iso(from)}&to=${iso(to)}`);
    expect(local.points.map((p) => p.time)).toEqual([iso(from), iso(from + DAY)]);
    const hourly = await rollup("energy_hourly", "hour", from, to);
    expect(local.points.reduce((s, p) => s + p.energy_Wh, 0)).toBe(hourly.filter((r) => r.dev_eui === A).reduce((s, r) => s + Number(r.energy_wh), 0));
  });

  it("takes a date as that day's midnight: in UTC, or in the zone asked for", async () => {
    const day = (ms: number) => iso(ms).slice(0, 10);
    const utc = await json<{ points: { time: string }[] }>(`/api/devices/${A}/energy?period=day&from=${day(START + DAY)}&to=${day(START + 3 * DAY)}`);
    expect(utc.points.map((p) => p.time)).toEqual([iso(START + DAY), iso(START + 2 * DAY)]);
    // The same answer as the instants, for a date and a date-time without zone alike.
    const instants = await json<unknown>(`/api/devices/${A}/energy?period=hour&from=${iso(START + DAY)}&to=${iso(START + DAY + 5 * 3_600_000)}`);
    expect(await json<unknown>(`/api/devices/${A}/energy?period=hour&from=${day(START + DAY)}&to=${day(START + DAY)}T05:00`)).toEqual(instants);
    // Berlin's midnight is 23:00 or 22:00 UTC the day before.
    const zone = "Europe/Berlin";
    const berlin = await json<{ points: { time: string }[] }>(`/api/devices/${A}/energy?period=day&tz=${zone}&from=${day(START + DAY)}&to=${day(START + 2 * DAY)}`);
    expect(berlin.points).toHaveLength(1);
    const local = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", day: "2-digit" }).format(new Date(berlin.points[0].time));
    expect(local).toBe(`${day(START + DAY).slice(8)}, 00:00`);
    expect([1, 2]).toContain((START + DAY - Date.parse(berlin.points[0].time)) / 3_600_000);
    // An offset given in the value wins over tz.
    const offset = await json<{ points: { time: string }[] }>(`/api/devices/${A}/energy?period=hour&tz=${zone}&from=${day(START + DAY)}T00:00:00%2B00:00&to=${day(START + DAY)}T02:00:00Z`);
    expect(offset.points.map((p) => p.time)).toEqual([iso(START + DAY), iso(START + DAY + 3_600_000)]);
  });

  it.each([
    ["/api/devices/a1b2c3d4e5f6ffff/energy", 404, "device a1b2c3d4e5f6ffff is not known"],
    [`/api/devices/${A}/energy?period=week`, 400, "querystring/period must be one of hour, day"],
    [`/api/devices/${A}/energy?from=yesterday`, 400, 'querystring/from "yesterday" is not a date (2026-12-01) or a date-time (2026-12-01T00:00:00Z)'],
    [`/api/devices/${A}/energy?from=2026-02-30`, 400, 'querystring/from "2026-02-30" is not a day or time of the calendar'],
    [`/api/devices/${A}/energy?to=2026-11-01T24:00:00Z`, 400, 'querystring/to "2026-11-01T24:00:00Z" is not a day or time of the calendar'],
    [`/api/devices/${A}/energy?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, 400, "querystring/from (2026-11-02T00:00:00.000Z) must be before querystring/to"],
    [`/api/devices/${A}/energy?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`, 400, "spans more than 400 days"],
    [`/api/energy?tz=Mars/Olympus`, 400, 'querystring/tz "Mars/Olympus" is not a time zone name'],
    [`/api/energy?perod=hour`, 400, "querystring/perod is not a parameter of this read; expected period, from, to, tz, application"],
    [`/api/devices/${A}/readings?from=2026-11-01T00:00:00Z&period=hour`, 400, "querystring/period is not a parameter of this read; expected from, to"],
    [`/api/export/energy.csv?devEui=${"0".repeat(16)}`, 404, "device 0000000000000000 is not known"],
    [`/api/devices/${A}/readings?to=2020-01-01T00:00:00Z&from=2021-01-01T00:00:00Z`, 400, "must be before"],
  ])("GET %s → %i naming what is wrong", async (path, status, message) => {
    const answer = await get(path);
    expect(answer.status).toBe(status);
    expect(((await answer.json()) as { message: string }).message).toContain(message);
  });

  it("refuses every read without an api token, and with a webhook token", async () => {
    for (const path of [`/api/devices/${A}/energy`, "/api/energy", "/api/export/energy.csv", `/api/devices/${A}/readings`]) {
      expect((await get(path, {})).status, path).toBe(401);
      expect((await get(path, { authorization: `Bearer ${TOKEN}` })).status, path).toBe(401);
    }
  });

  it("answers a plug's readings keep-alive by keep-alive over a day, hourly over a month", async () => {
    const day = await json<{ resolution: string; points: Record<string, unknown>[] }>(
      `/api/devices/${A}/readings?from=${iso(START + DAY)}&to=${iso(START + 2 * DAY)}`);
    expect(day.resolution).toBe("keepalive");
    expect(day.points).toHaveLength(144);
    // The relay as the device object and the codec name it: relayState "ON" / "OFF".
    expect(day.points[0]).toEqual({ time: iso(START + DAY), power_W: 180, acVoltage_V: 230, acCurrent_mA: expect.any(Number), internalTemperature: 25, relayState: "ON" });
    const device = await json<{ relayState: string }>(`/api/devices/${A}`);
    expect(device.relayState).toBe("ON");
    const month = await json<{ resolution: string; points: Record<string, unknown>[] }>(`/api/devices/${A}/readings?from=${iso(START - 20 * DAY)}&to=${iso(START + 10 * DAY)}`);
    expect(month.resolution).toBe("hour");
    expect(month.points).toHaveLength(4 * 24);
    // An hour's average is a share of the time on, under a name of its own.
    expect(month.points[1]).toMatchObject({ relayOnShare: 1 });
    expect(month.points[1]).not.toHaveProperty("relayState");
  });
});
