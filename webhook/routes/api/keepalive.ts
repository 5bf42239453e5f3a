// PUT /api/devices/{devEui}/keepalive and PUT /api/keepalive (contract §4): `minutes` is judged by the codec
// itself (0, 256, 15.5, "x" get its own message), so the schema lets any value through to it.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ApiError } from "../../api/errors";
import type { KeepaliveService } from "../../keepalive/service";
import { DevEuiParams, DevEuiPattern } from "./params";
import { refuseUndeclared } from "./undeclared";

const minutes = Type.Unknown({ description: "the keep-alive period in minutes, 1..255" });
const force = Type.Optional(Type.Boolean({ description: "set a period the airtime policy refuses, with a warning" }));
// Checked by the service, not the schema: Fastify's validator would take 1 or "true" for true.
const adapt = Type.Optional(Type.Unknown({ description: "true: adaptive mode, minutes is the target, lengthened to what the airtime policy allows at the plug's radio" }));

export const keepaliveRoutes: FastifyPluginAsyncTypebox<{ keepalive: KeepaliveService }> = async (api, { keepalive }) => {
  refuseUndeclared(api);
  api.put("/devices/:devEui/keepalive", {
    schema: { params: DevEuiParams, body: Type.Object({ minutes, force, adapt }, { description: '{"minutes": 1..255, "force"?: boolean, "adapt"?: boolean}' }) },
  }, async (request, reply) => {
    return reply.code(202).send(await keepalive.set(request.params.devEui, request.body));
  });

  api.put("/keepalive", {
    schema: {
      body: Type.Object({
        minutes, force, adapt,
        devices: Type.Optional(Type.Array(Type.String({ pattern: DevEuiPattern }), { minItems: 1, maxItems: 10_000 })),
        application: Type.Optional(Type.String({ minLength: 1 })),
      }, { description: '{"minutes": 1..255, "force"?: boolean, "adapt"?: boolean, and "devices": [devEui, …] or "application": "…"}' }),
    },
  }, async (request, reply) => {
    const { devices, application, ...set } = request.body;
    if ((devices === undefined) === (application === undefined)) {
      throw new ApiError(400, "body: give exactly one of devices (a list of DevEUIs) or application (its name)");
    }
    const results = await keepalive.setMany(devices ? { ...set, devices } : { ...set, application: application! });
    return reply.code(202).send({ results });
  });
};
