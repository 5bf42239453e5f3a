// ChirpStack v4 HTTP-integration events: JSON (protobuf JSON mapping) or protobuf, both brought to the
// JSON shape and checked by one schema, then turned into records. Field types follow ChirpStack's
// integration.proto; fields left out of the JSON (ChirpStack before API 4.1 left out defaults) mean
// their default: fCnt 0, fPort 0, acknowledged false, level INFO.
import common from "@chirpstack/chirpstack-api/common/common_pb.js";
import gw from "@chirpstack/chirpstack-api/gw/gw_pb.js";
import integration from "@chirpstack/chirpstack-api/integration/integration_pb.js";
import { type Static, Type } from "@sinclair/typebox";
import { CHIRPSTACK_WIRE, checkWire } from "./protobuf-wire";
import type { Received } from "./records";
import { AnyObject, Base64, best, bodyHash, decodePayload, DevEui, Float, nowIso, Timestamp, Uint32 } from "./schema-common";

export const CHIRPSTACK_EVENTS = ["up", "join", "ack", "txack", "log", "status", "location", "integration"] as const;
export type ChirpStackEventName = (typeof CHIRPSTACK_EVENTS)[number];

export const ChirpStackQuery = Type.Object({
  event: Type.Unsafe<ChirpStackEventName>(Type.String({ enum: [...CHIRPSTACK_EVENTS] })),
});

/** The fields this service reads; others pass through (they are kept in device events). */
export const ChirpStackEvent = Type.Object({
  deduplicationId: Type.Optional(Type.String()),
  time: Type.Optional(Timestamp),
  deviceInfo: Type.Object({
    devEui: DevEui,
    deviceName: Type.Optional(Type.String()),
    applicationName: Type.Optional(Type.String()),
  }),
  fCnt: Type.Optional(Uint32),
  fPort: Type.Optional(Uint32),
  data: Type.Optional(Base64),
  object: Type.Optional(AnyObject),
  // rssi is an int32 in integration.proto; a gateway bridge that reports fractions is taken too.
  rxInfo: Type.Optional(Type.Array(Type.Object({ rssi: Type.Optional(Float), snr: Type.Optional(Float) }))),
  txInfo: Type.Optional(Type.Object({
    frequency: Type.Optional(Uint32),
    modulation: Type.Optional(Type.Object({
      lora: Type.Optional(Type.Object({
        spreadingFactor: Type.Optional(Uint32),
        bandwidth: Type.Optional(Uint32),
      })),
    })),
  })),
  acknowledged: Type.Optional(Type.Boolean()),
});
export type ChirpStackEvent = Static<typeof ChirpStackEvent>;

const KINDS: Record<Exclude<ChirpStackEventName, "up">, string> = {
  join: "join", ack: "downlink_ack", txack: "downlink_sent", log: "log", status: "status", location: "location", integration: "integration",
};

// The enums of the integration events, by field name: stored by name, as ChirpStack's JSON writes them.
const ENUMS: Record<string, object> = {
  level: integration.LogLevel,
  code: integration.LogCode,
  codeRate: gw.CodeRate,
  crcStatus: gw.CRCStatus,
  source: common.LocationSource,
  deviceClassEnabled: common.DeviceClass,
};
const ENUM_NAMES = Object.fromEntries(Object.entries(ENUMS).map(([field, values]) =>
  [field, Object.fromEntries(Object.entries(values).map(([name, n]) => [n, name]))]));

/** `value` with every enum number (protobuf, or JSON that used numbers) replaced by its name. */
function enumNames(value: unknown, key = ""): unknown {
  if (typeof value === "number") return ENUM_NAMES[key]?.[value] ?? value;
  if (Array.isArray(value)) return value.map((v) => enumNames(v));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, enumNames(v, k)]));
}

/** An event's data in one form, whatever the encoding: enums by name, left-out defaults filled in. */
function eventData(event: ChirpStackEventName, data: Record<string, unknown>): Record<string, unknown> {
  const named = enumNames(data) as Record<string, unknown>;
  if (event === "log") return { level: "INFO", code: "UNKNOWN", ...named };
  if (event === "ack") return { acknowledged: false, ...named };
  return named;
}

export function chirpstackRecord(event: ChirpStackEventName, body: ChirpStackEvent): Received | string {
  const info = body.deviceInfo;
  const device = {
    network: "chirpstack" as const,
    devEui: info.devEui.toLowerCase(),
    deviceName: info.deviceName || null,
    application: info.applicationName || null,
  };
  const time = body.time ?? nowIso();
  if (event === "up") {
    const payload = decodePayload(body.data, "body/data");
    if (typeof payload === "string") return payload;
    const rx = body.rxInfo ?? [];
    return {
      type: "uplink",
      ...device,
      receivedAt: time,
      // ChirpStack always sends its id; without one, the same body re-sent is still one uplink.
      dedupKey: `chirpstack:${body.deduplicationId || bodyHash(body)}`,
      fCnt: body.fCnt ?? 0,
      fPort: body.fPort ?? 0,
      payload,
      networkDecoded: body.object ?? null,
      rssi: best(rx.map((r) => r.rssi)),
      snr: best(rx.map((r) => r.snr)),
      gatewayCount: rx.length || null,
      spreadingFactor: body.txInfo?.modulation?.lora?.spreadingFactor ?? null,
      bandwidthHz: body.txInfo?.modulation?.lora?.bandwidth ?? null,
      frequency: body.txInfo?.frequency ?? null,
      simulated: false,
    };
  }
  const { deviceInfo: _, ...data } = body;
  return {
    type: "event",
    ...device,
    time,
    kind: event === "ack" && body.acknowledged !== true ? "downlink_nack" : KINDS[event],
    data: eventData(event, data),
    dedupKey: `chirpstack:${event}:${body.deduplicationId || bodyHash(body)}`,
    fromDevice: event === "join",
  };
}

// --- protobuf ------------------------------------------------------------------------------

interface ProtobufMessage {
  toObject(): Record<string, unknown>;
  getObject?(): { toJavaScript(): unknown } | undefined;
}
type ProtobufClass = { deserializeBinary(bytes: Uint8Array): ProtobufMessage };

const PROTOBUF: Partial<Record<ChirpStackEventName, ProtobufClass>> = {
  up: integration.UplinkEvent,
  join: integration.JoinEvent,
  ack: integration.AckEvent,
  txack: integration.TxAckEvent,
  log: integration.LogEvent,
  status: integration.StatusEvent,
  location: integration.LocationEvent,
};

/** A google.protobuf.Timestamp as RFC 3339, to the nanosecond (PostgreSQL keeps the microseconds). */
function timestamp({ seconds, nanos }: { seconds: number; nanos: number }): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", `.${String(nanos).padStart(9, "0")}Z`);
}

/** google-protobuf's toObject() shape → the protobuf JSON mapping that ChirpStack's JSON encoding sends. */
function jsonMapping(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) {
    return key.endsWith("Map") ? Object.fromEntries(value as [string, unknown][]) : value.map((v) => jsonMapping(v));
  }
  if (value === null || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  if ((key === "time" || key.endsWith("Time")) && typeof o.seconds === "number" && typeof o.nanos === "number") {
    return timestamp(o as { seconds: number; nanos: number });
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k.replace(/(List|Map)$/, "")] = jsonMapping(v, k);
  }
  return out;
}

/** A protobuf body in the JSON shape, or why it cannot be read. */
export function fromProtobuf(event: string, bytes: Uint8Array): Record<string, unknown> | string {
  const type = PROTOBUF[event as ChirpStackEventName];
  if (!type) {
    return CHIRPSTACK_EVENTS.includes(event as ChirpStackEventName)
      ? `event=${event} is taken as JSON only; set the integration's payload encoding to JSON`
      : `querystring/event must be one of ${CHIRPSTACK_EVENTS.join(", ")}; got ${JSON.stringify(event)}`;
  }
  const wrong = checkWire(bytes, CHIRPSTACK_WIRE[event as keyof typeof CHIRPSTACK_WIRE]);
  if (wrong) return `body is not a ChirpStack ${event} event in protobuf: ${wrong}`;
  let message: ProtobufMessage;
  try {
    message = type.deserializeBinary(bytes);
  } catch (error) {
    return `body is not a ChirpStack ${event} event in protobuf: ${(error as Error).message}`;
  }
  const json = jsonMapping(message.toObject()) as Record<string, unknown>;
  // A google.protobuf.Struct needs its own conversion.
  const object = message.getObject?.()?.toJavaScript();
  if (object === undefined) delete json.object;
  else json.object = object;
  return json;
}
