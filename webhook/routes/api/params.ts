// What the API routes share: the {devEui} path parameter, accepted in either case, and the refusal of body
// fields the route does not know.
import { Type } from "@sinclair/typebox";
import { ApiError } from "../../api/errors";

export const DevEuiPattern = "^[0-9a-fA-F]{16}$";

export const DevEuiParams = Type.Object({
  devEui: Type.String({ pattern: DevEuiPattern, description: "the device's DevEUI, 16 hex characters, either case" }),
});

/**
 * Refuses a body field that is not one of `known`: a misspelt "confirmed" or "force" must not pass unnoticed
 * (Fastify would drop it silently and the request would do something else).
 */
export function refuseUnknownFields(body: object, known: string[], expected: string): void {
  const unknown = Object.keys(body).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new ApiError(400, `body/${unknown} is not a field; expected ${expected}`);
}
