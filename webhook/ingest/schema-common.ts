// Schema pieces and helpers shared by the TTS and ChirpStack bodies. Numbers take their protobuf
// type's whole range: what the network's API allows is accepted, and what the database cannot hold is
// quarantined, never refused.
import { createHash } from "node:crypto";
import { type TSchema, Type } from "@sinclair/typebox";

export const DevEui = Type.String({ pattern: "^[0-9A-Fa-f]{16}$" });
export const Timestamp = Type.String({ format: "date-time" });
/** Standard or URL-safe, padded or not: protobuf JSON parsers accept all four. */
export const Base64 = Type.String({ pattern: "^[A-Za-z0-9+/_-]*={0,2}$" });
export const AnyObject = Type.Record(Type.String(), Type.Unknown());

export const Uint32 = Type.Integer({ minimum: 0, maximum: 0xffff_ffff });
/** 64-bit integers are strings in protobuf JSON (a number is taken too). */
export const Uint64 = Type.String({ pattern: "^[0-9]{1,20}$" });
/** protobuf JSON writes the float values that are not numbers as strings. */
export const Float = Type.Union([Type.Number(), Type.Literal("NaN"), Type.Literal("Infinity"), Type.Literal("-Infinity")]);

/** A Float as a number; NaN and the infinities are not a measurement (stored as null). */
export function finite(value: number | string | undefined): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/** Go's zero time, which TTS writes for a time it does not know (its storage integration does). */
export function knownTime(time: string | undefined): string | undefined {
  return time === undefined || time.startsWith("0001-01-01T00:00:00") ? undefined : time;
}

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
export function best(values: (number | string | undefined)[]): number | null {
  const known = values.map(finite).filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.max(...known) : null;
}

/**
 * protobuf JSON: `null` stands for a field's default, as if it were left out. Dropped (in place) where
 * the schema declares the field; free-form objects (decoded payloads, event data) keep theirs.
 */
export function dropNulls(value: unknown, schema: TSchema): unknown {
  if (Array.isArray(value) && schema.items) {
    for (const item of value) dropNulls(item, schema.items as TSchema);
  } else if (value !== null && typeof value === "object" && schema.properties) {
    const object = value as Record<string, unknown>;
    for (const [key, property] of propertiesOf(schema)) {
      if (object[key] === null) delete object[key];
      else if (object[key] !== undefined) dropNulls(object[key], property);
    }
  }
  return value;
}

// A schema's properties as a list, made once per schema: dropNulls walks them on every request.
const propertyLists = new WeakMap<TSchema, [string, TSchema][]>();
function propertiesOf(schema: TSchema): [string, TSchema][] {
  let list = propertyLists.get(schema);
  if (!list) propertyLists.set(schema, list = Object.entries(schema.properties as Record<string, TSchema>));
  return list;
}

/**
 * Objects and arrays nested deeper than this in a body are refused (400), before anything walks them:
 * the schema check, dropNulls, the enum names, the dedup hash and jsonb all recurse. Real messages nest
 * fewer than 10 levels; a decoded payload has room to spare.
 */
export const MAX_JSON_DEPTH = 64;

/** Why `body` nests too deep (naming where), or undefined; walked without recursion. */
export function nestingError(body: unknown, limit = MAX_JSON_DEPTH): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: body, depth: 0, path: "body" }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (depth === limit) return `body nests objects and arrays deeper than the limit of ${limit} levels, at ${path.length > 60 ? `${path.slice(0, 60)}…` : path}`;
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, depth: depth + 1, path: `${path}/${key}` });
  }
  return undefined;
}
