// Energy reads (contract §4): a plug's consumption per hour or day, the fleet's, every plug's (the console's
// fleet table), and the CSV export users take to billing and spreadsheets.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { pipeline, Readable } from "node:stream";
import { stringify } from "csv-stringify";
import { type EnergyQuery, energyByDevice, energyHours, fleetEnergy, isTimeZone, type Period } from "../../api/energy";
import { ApiError } from "../../api/errors";
import { knownDevice } from "../../api/known-device";
import { RangeQuery, timeRange } from "../../api/range";
import type { Database } from "../../db/database";
import { DevEuiParams } from "./params";
import { refuseUndeclared } from "./undeclared";

const EnergyQueryString = Type.Object({
  period: Type.Optional(Type.Union([Type.Literal("hour"), Type.Literal("day")], { description: "default: day" })),
  ...RangeQuery,
  tz: Type.Optional(Type.String({ description: "IANA time zone whose midnights bound the days (e.g. Europe/Berlin); default UTC" })),
});
const ApplicationFilter = { application: Type.Optional(Type.String({ minLength: 1 })) };

/** The default span: a day of hours, or 30 days. */
const defaultSpan = (period: Period) => (period === "hour" ? 86_400_000 : 30 * 86_400_000);

function energyQuery(query: { period?: Period; from?: string; to?: string; tz?: string }): EnergyQuery {
  const period = query.period ?? "day";
  if (query.tz !== undefined && !isTimeZone(query.tz)) throw new ApiError(400, `querystring/tz ${JSON.stringify(query.tz)} is not a time zone name (e.g. Europe/Berlin, UTC)`);
  return { period, ...timeRange(query, defaultSpan(period), query.tz), timeZone: query.tz };
}

const point = (row: { period_start: Date; energy_wh: string }) => ({ time: row.period_start.toISOString(), energy_Wh: Number(row.energy_wh) });

export const energyRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (api, { db }) => {
  refuseUndeclared(api);
  api.get("/devices/:devEui/energy", {
    schema: { params: DevEuiParams, querystring: EnergyQueryString },
  }, async (request) => {
    const devEui = await knownDevice(db, request.params.devEui);
    const rows = await energyByDevice(db, { ...energyQuery(request.query), devEui });
    return { points: rows.map(point) };
  });

  api.get("/energy", {
    schema: { querystring: Type.Object({ ...EnergyQueryString.properties, ...ApplicationFilter }) },
  }, async (request) => {
    const rows = await fleetEnergy(db, { ...energyQuery(request.query), application: request.query.application });
    return { points: rows.map((row) => ({ ...point(row), devices: row.devices })) };
  });

  api.get("/energy/devices", {
    schema: { querystring: Type.Object({ ...EnergyQueryString.properties, ...ApplicationFilter }) },
  }, async (request) => {
    const rows = await energyByDevice(db, { ...energyQuery(request.query), application: request.query.application });
    const devices = new Map<string, { devEui: string; name: string | null; points: ReturnType<typeof point>[] }>();
    for (const row of rows) {
      const device = devices.get(row.dev_eui) ?? { devEui: row.dev_eui, name: row.name, points: [] };
      device.points.push(point(row));
      devices.set(row.dev_eui, device);
    }
    return { devices: [...devices.values()] };
  });

  api.get("/export/energy.csv", {
    schema: { querystring: Type.Object({ ...EnergyQueryString.properties, ...ApplicationFilter, devEui: Type.Optional(DevEuiParams.properties.devEui) }) },
  }, async (request, reply) => {
    const q = energyQuery(request.query);
    const devEui = request.query.devEui === undefined ? undefined : await knownDevice(db, request.query.devEui);
    const query = { ...q, devEui, application: request.query.application };
    // Hours stream page by page in time order (constant memory, however many plug-hours); days, by plug, are few
    // enough to read at once.
    const rows = q.period === "hour"
      ? Readable.from(energyHours(db, query))
      : Readable.from(await energyByDevice(db, query));
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const file = `energy-${q.period}-${day(q.from)}-${day(q.to)}${devEui ? `-${devEui}` : ""}.csv`;
    reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${file}"`);
    // Spreadsheets take the times as UTC ISO 8601; a name starting with = + - @ is written as text, never a formula.
    // A page failing midway ends the answer cut short (the socket is destroyed), never hanging.
    return reply.send(pipeline(rows, stringify({
      header: true,
      columns: ["dev_eui", "name", "period_start", "energy_wh"],
      cast: { date: (d) => d.toISOString(), bigint: (n) => n.toString(), string: (s) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s) },
    }), () => {}));
  });
};
