// PATCH /api/devices/{devEui} {"name"} and DELETE /api/devices/{devEui} (contract §4, "Device names and removal").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { removeDevice, renameDevice } from "../../api/device-changes";
import { getDevice, unknownDevice } from "../../api/devices";
import { ApiError } from "../../api/errors";
import type { Database } from "../../db/database";
import { DevEuiParams } from "./params";
import { refuseUndeclared } from "./undeclared";

const NAME_MAX = 200;

export const deviceChangeRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (api, { db }) => {
  refuseUndeclared(api);
  api.patch("/devices/:devEui", {
    schema: {
      params: DevEuiParams,
      body: Type.Object({
        // null first: AJV would coerce null into "" for a string.
        name: Type.Union([Type.Null(), Type.String({ maxLength: NAME_MAX })], { description: "the plug's name; null returns to the network server's" }),
      }, { description: '{"name": "…" (up to 200 characters) or null (the network server\'s name again)}' }),
    },
  }, async (request) => {
    const name = request.body.name === null ? null : request.body.name.trim();
    if (name === "") throw new ApiError(400, 'body/name is blank: give a name, or null to return to the network server\'s name');
    await renameDevice(db, request.params.devEui, name);
    const device = await getDevice(db, request.params.devEui);
    if (!device) throw unknownDevice(request.params.devEui);
    return device;
  });

  api.delete("/devices/:devEui", {
    schema: {
      params: DevEuiParams,
      querystring: Type.Object({
        history: Type.Optional(Type.Union([Type.Literal("keep"), Type.Literal("erase")], {
          description: "keep (default): the plug's readings, energy rollups and raw uplinks stay; erase: they go too",
        })),
      }),
    },
  }, async (request) => removeDevice(db, request.params.devEui, request.query.history === "erase"));
};
