// POST /api/devices/{devEui}/downlinks (any downlink the codec can encode) and GET …/downlinks (contract §4).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { DownlinkService } from "../../downlinks/service";
import { DevEuiParams } from "./params";
import { refuseUndeclared } from "./undeclared";

const SendBody = Type.Object({
  data: Type.Record(Type.String(), Type.Unknown()),
  confirmed: Type.Optional(Type.Boolean()),
}, { description: '{"data": {…encodeDownlink keys…}, "confirmed"?: boolean}' });

export const downlinkRoutes: FastifyPluginAsyncTypebox<{ downlinks: DownlinkService }> = async (api, { downlinks }) => {
  refuseUndeclared(api);
  api.post("/devices/:devEui/downlinks", { schema: { params: DevEuiParams, body: SendBody } }, async (request, reply) => {
    const { data, confirmed } = request.body;
    const result = await downlinks.send({ devEui: request.params.devEui, data, confirmed, purpose: "api" });
    return reply.code(202).send(result);
  });

  api.get("/devices/:devEui/downlinks", {
    schema: { params: DevEuiParams, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }) },
  }, async (request) => ({ downlinks: await downlinks.list(request.params.devEui, request.query.limit) }));
};
