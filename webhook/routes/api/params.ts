// What the API routes share: the {devEui} path parameter, accepted in either case.
import { Type } from "@sinclair/typebox";

export const DevEuiPattern = "^[0-9a-fA-F]{16}$";

export const DevEuiParams = Type.Object({
  devEui: Type.String({ pattern: DevEuiPattern, description: "the device's DevEUI, 16 hex characters, either case" }),
});
