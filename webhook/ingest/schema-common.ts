// Schema pieces and helpers shared by the TTS and ChirpStack bodies.
import { createHash } from "node:crypto";
import { Type } from "@sinclair/typebox";

export const DevEui = Type.String({ pattern: "^[0-9A-Fa-f]{16}$" });
export const Timestamp = Type.String({ format: "date-time" });
export const Base64 = Type.String({ pattern: "^[A-Za-z0-9+/]*={0,2}$" });
export const AnyObject = Type.Record(Type.String(), Type.Unknown());

/**
 * An uplink's payload from base64 that passed the `Base64` pattern: null when the network sent none,
 * a message naming `path` when its length cannot be base64.
 */
export function decodePayload(text: string | undefined, path: string): Uint8Array | null | string {
  if (text === undefined) return null;
  if (text.replace(/=+$/, "").length % 4 === 1) return `${path} is not valid base64`;
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** A stable id for a message that carries none: re-sent, the same body gives the same id. */
export function bodyHash(body: unknown): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("base64url").slice(0, 22);
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** The best (largest) of the gateways' values, or null when none reported one. */
export function best(values: (number | undefined)[]): number | null {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.max(...known) : null;
}
