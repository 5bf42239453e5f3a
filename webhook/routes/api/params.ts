// What the device routes share: the {devEui} path parameter, accepted in either case.
import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";

export const DevEuiParams = Type.Object({
  devEui: Type.String({ pattern: "^[0-9a-fA-F]{16}$", description: "the device's DevEUI, 16 hex characters, either case" }),
});

export function notFound(reply: FastifyReply, devEui: string) {
  return reply.code(404).send({
    statusCode: 404, error: "Not Found",
    message: `device ${devEui.toLowerCase()} is not known: it appears once the service has received an uplink or join from it`,
  });
}
