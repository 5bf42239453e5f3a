// A plug's charts and event list: its readings (power, voltage, current, temperature, relay) and its
// protection and relay events over a time range.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { deviceEvents } from "../../api/events";
import { knownDevice } from "../../api/known-device";
import { RangeQuery, timeRange } from "../../api/range";
import { readingSeries } from "../../api/readings";
import type { Database } from "../../db/database";
import { DevEuiParams } from "./params";
import { refuseUndeclared } from "./undeclared";

const DAY_MS = 86_400_000;

export const readingsRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (api, { db }) => {
  refuseUndeclared(api);
  const schema = { params: DevEuiParams, querystring: Type.Object(RangeQuery) };

  api.get("/devices/:devEui/readings", { schema }, async (request) => {
    const devEui = await knownDevice(db, request.params.devEui);
    const { from, to } = timeRange(request.query, DAY_MS);
    return readingSeries(db, devEui, from, to);
  });

  api.get("/devices/:devEui/events", { schema }, async (request) => {
    const devEui = await knownDevice(db, request.params.devEui);
    const { from, to } = timeRange(request.query, 30 * DAY_MS);
    return { events: await deviceEvents(db, devEui, from, to) };
  });
};
