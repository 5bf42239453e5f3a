// Schema pieces and helpers shared by the TTS and ChirpStack bodies.
import { createHash } from "node:crypto";
import { Type } from "@sinclair/typebox";

export const DevEui = Type.String({ pattern: "^[0-9A-Fa-f]{16}$" });
export const Timestamp = Type.String({ format: "date-time" });
export const Base64 = Type.String({ pattern: "^[A-Za-z0-9+/]*={0,2}$" });
export const AnyObject = Type.Record(Type.String(), Type.Unknown());

/** Base64 that passed the `Base64` pattern; null when its length cannot be base64. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.replace(/=+$/, "").length % 4 === 1) return null;
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** A stable id for a message that carries none: re-sent, the same body gives the same id. */
export function bodyHash(body: unknown): string {
  return createHash("sha256").update(body instanceof Uint8Array ? body : JSON.stringify(body)).digest("base64url").slice(0, 22);
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** The best (largest) of the gateways' values, or null when none reported one. */
export function best(values: (number | undefined)[]): number | null {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.max(...known) : null;
}
