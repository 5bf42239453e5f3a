// The Things Stack v3 webhook messages: one body schema for every message type, and the record each becomes.
// Field types follow TTS's API (ttnpb): f_port and f_cnt uint32, RSSI and SNR float, frequency uint64;
// empty values ("", 0, false) are left out of its JSON and mean just that.
import { type Static, Type } from "@sinclair/typebox";
import type { Received } from "./records";
import {
  AnyObject, Base64, best, bodyHash, decodePayload, DevEui, Float, knownTime, nowIso, Timestamp, Uint32, Uint64,
} from "./schema-common";

const UplinkMessage = Type.Object({
  f_port: Type.Optional(Uint32),
  f_cnt: Type.Optional(Uint32),
  frm_payload: Type.Optional(Base64),
  decoded_payload: Type.Optional(AnyObject),
  rx_metadata: Type.Optional(Type.Array(Type.Object({
    rssi: Type.Optional(Float),
    channel_rssi: Type.Optional(Float),
    snr: Type.Optional(Float),
  }))),
  settings: Type.Optional(Type.Object({
    data_rate: Type.Optional(Type.Object({
      lora: Type.Optional(Type.Object({
        spreading_factor: Type.Optional(Uint32),
        bandwidth: Type.Optional(Uint32),
      })),
    })),
    frequency: Type.Optional(Uint64),
  })),
  received_at: Type.Optional(Timestamp),
  simulated: Type.Optional(Type.Boolean()),
});

// Message types other than the uplink, and the event kind each is stored as.
const TTS_EVENT_KINDS = {
  join_accept: "join",
  downlink_ack: "downlink_ack",
  downlink_nack: "downlink_nack",
  downlink_sent: "downlink_sent",
  downlink_failed: "downlink_failed",
  downlink_queued: "downlink_queued",
  downlink_queue_invalidated: "downlink_queue_invalidated",
  location_solved: "location",
  service_data: "service_data",
  uplink_normalized: "uplink_normalized",
} as const;
type EventType = keyof typeof TTS_EVENT_KINDS;
const EVENT_TYPES = Object.keys(TTS_EVENT_KINDS) as EventType[];

export const TtsMessage = Type.Object({
  end_device_ids: Type.Object({
    device_id: Type.String({ minLength: 1 }),
    // Absent for devices activated by personalisation without one, and in TTS's downlink_failed example.
    dev_eui: Type.Optional(DevEui),
    application_ids: Type.Optional(Type.Object({ application_id: Type.Optional(Type.String()) })),
  }),
  correlation_ids: Type.Optional(Type.Array(Type.String())),
  received_at: Type.Optional(Timestamp),
  simulated: Type.Optional(Type.Boolean()),
  uplink_message: Type.Optional(UplinkMessage),
  ...Object.fromEntries(EVENT_TYPES.map((t) => [t, Type.Optional(AnyObject)])),
});
export type TtsMessage = Static<typeof TtsMessage> & Partial<Record<EventType, Record<string, unknown>>>;

/** The record a message becomes, or why it cannot be taken (a message for the 400 answer). */
export function ttsRecord(message: TtsMessage): Received | string {
  const ids = message.end_device_ids;
  const device = {
    network: "ttn" as const,
    devEui: ids.dev_eui?.toLowerCase() ?? null,
    deviceName: ids.device_id,
    application: ids.application_ids?.application_id || null,
  };
  const received = knownTime(message.received_at);
  const up = message.uplink_message;
  if (up) {
    const payload = decodePayload(up.frm_payload, "body/uplink_message/frm_payload");
    if (typeof payload === "string") return payload;
    const messageId = message.correlation_ids?.find((id) => id.startsWith("as:up:"));
    const rx = up.rx_metadata ?? [];
    const fCnt = up.f_cnt ?? 0;
    return {
      type: "uplink",
      ...device,
      receivedAt: knownTime(up.received_at) ?? received ?? nowIso(),
      fCnt,
      fPort: up.f_port ?? 0,
      dedupKey: messageId ? `tts:${messageId}` : `fcnt:${fCnt}:${Buffer.from(payload ?? []).toString("hex")}`,
      payload,
      networkDecoded: up.decoded_payload ?? null,
      rssi: best(rx.map((m) => m.rssi ?? m.channel_rssi)),
      snr: best(rx.map((m) => m.snr)),
      gatewayCount: rx.length || null,
      spreadingFactor: up.settings?.data_rate?.lora?.spreading_factor ?? null,
      bandwidthHz: up.settings?.data_rate?.lora?.bandwidth ?? null,
      frequency: up.settings?.frequency ? Number(up.settings.frequency) : null,
      simulated: message.simulated === true || up.simulated === true,
    };
  }
  const type = EVENT_TYPES.find((t) => message[t] !== undefined);
  if (!type) return `body: no known message type; expected one of uplink_message, ${EVENT_TYPES.join(", ")} beside end_device_ids`;
  return {
    type: "event",
    ...device,
    time: received ?? nowIso(),
    kind: TTS_EVENT_KINDS[type],
    data: message[type]!,
    dedupKey: `tts:${type}:${bodyHash(message)}`,
    fromDevice: type === "join_accept",
  };
}
