// GET /api/devices and GET /api/devices/{devEui} (contract §4).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { getDevice, listDevices, unknownDevice } from "../../api/devices";
import type { Database } from "../../db/database";
import { DevEuiParams } from "./params";

export const deviceRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (api, { db }) => {
  api.get("/devices", async () => ({ devices: await listDevices(db) }));

  api.get("/devices/:devEui", { schema: { params: DevEuiParams } }, async (request) => {
    const device = await getDevice(db, request.params.devEui);
    if (!device) throw unknownDevice(request.params.devEui);
    return device;
  });
};
