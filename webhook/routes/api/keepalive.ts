// PUT /api/devices/{devEui}/keepalive and PUT /api/keepalive (contract §4): `minutes` is judged by the codec
// itself (0, 256, 15.5, "x" get its own message), so the schema lets any value through to it.
import { STATUS_CODES } from "node:http";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ApiError } from "../../api/errors";
import type { BulkResult, KeepaliveService } from "../../keepalive/service";
import { DevEuiParams, DevEuiPattern } from "./params";
import { refuseUndeclared } from "./undeclared";

const minutes = Type.Unknown({ description: "the keep-alive period in minutes, 1..255" });
const force = Type.Optional(Type.Boolean({ description: "set a period the airtime policy refuses, with a warning" }));
// Checked by the service, not the schema: Fastify's validator would take 1 or "true" for true.
const adapt = Type.Optional(Type.Unknown({ description: "true: adaptive mode, minutes is the target, lengthened to what the airtime policy allows at the plug's radio" }));

/**
 * A bulk request's answer: 202 when at least one plug's downlink was queued; when none was, the one status
 * all plugs were refused with (404: none is known), else 207 Multi-Status. Each result holds its own status.
 */
function bulkStatus(results: BulkResult[]): number {
  if (results.some((r) => r.status < 300)) return 202;
  const statuses = new Set(results.map((r) => r.status));
  return statuses.size === 1 ? results[0].status : 207;
}

/** When every plug was refused alike, the error for the whole request, as a single one's answer would carry it. */
function bulkError(results: BulkResult[]): { statusCode?: number; error?: string; message?: string } {
  const status = bulkStatus(results);
  if (status === 202 || status === 207) return {};
  const messages = new Set(results.map((r) => r.error));
  const message = messages.size === 1 ? results[0].error! : `none of the ${results.length} plugs was set, each refused with ${status}; the first: ${results[0].error}`;
  return { statusCode: status, error: STATUS_CODES[status], message };
}

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
    return reply.code(bulkStatus(results)).send({ ...bulkError(results), results });
  });
};
