// What the routes hand to the store: one network-neutral record per accepted message.

export type Network = "ttn" | "chirpstack";

interface DeviceRef {
  network: Network;
  /** 16 lowercase hex characters. */
  devEui: string;
  /** The network's device id (TTS `device_id`, ChirpStack `deviceName`). */
  deviceName: string | null;
  application: string | null;
  /**
   * Set when the network's time was not believed (more than a day ahead of the service's clock, or
   * before 2015): it says which time the network sent, and the record's time is the service's arrival time.
   */
  timeNote?: string;
}

export interface UplinkRecord extends DeviceRef {
  type: "uplink";
  /** ISO 8601 as the network sent it (PostgreSQL keeps its microseconds). */
  receivedAt: string;
  dedupKey: string;
  /** Left out by the network when 0 (protobuf JSON): 0 then. */
  fCnt: number;
  fPort: number;
  /** The raw application payload; null when the network sent none. */
  payload: Uint8Array | null;
  /** The network's own decoded object, used only when `payload` is null. */
  networkDecoded: Record<string, unknown> | null;
  rssi: number | null;
  snr: number | null;
  gatewayCount: number | null;
  spreadingFactor: number | null;
  bandwidthHz: number | null;
  frequency: number | null;
  simulated: boolean;
}

export interface EventRecord extends DeviceRef {
  type: "event";
  time: string;
  kind: string;
  data: Record<string, unknown>;
  dedupKey: string;
  /** A join is the device's own activity and counts as "seen"; downlink events do not. */
  fromDevice: boolean;
}

export type IngestRecord = UplinkRecord | EventRecord;

type WithoutDevEui<R> = Omit<R, "devEui"> & { devEui: string | null };

/**
 * A record as the network server sent it: TTS may leave out the DevEUI (devices activated by
 * personalisation, its own downlink_failed message). The store finds it from application + device id.
 */
export type Received = WithoutDevEui<UplinkRecord> | WithoutDevEui<EventRecord>;

/**
 * "spooled": kept on disk while the database is unavailable, stored when it is back.
 * "quarantined": kept aside with the reason the database could not take it (`npm run quarantine`).
 */
export type Outcome = "stored" | "duplicate" | "spooled" | "quarantined";

/** A record's outcome, its DevEUI once known, and for a quarantined one the reason. */
export interface Written {
  outcome: Outcome;
  devEui?: string;
  reason?: string;
}

type StoredForm = Omit<Received, "payload"> & { payload?: string | null };

/** A record as JSON text (payload in base64): the spool's lines and the quarantine's rows. */
export function recordToJson(record: Received): string {
  const stored: StoredForm = record.type === "uplink"
    ? { ...record, payload: record.payload ? Buffer.from(record.payload).toString("base64") : null }
    : record;
  return JSON.stringify(stored);
}

export function recordFromJson(text: string): Received {
  const stored = JSON.parse(text) as StoredForm;
  if (stored.type === "uplink") {
    return { ...stored, payload: typeof stored.payload === "string" ? new Uint8Array(Buffer.from(stored.payload, "base64")) : null } as Received;
  }
  return stored as Received;
}

/** No LoRaWAN network server stamped a 16ASPM uplink before 2015: an earlier time is a clock that was never set. */
const EARLIEST_BELIEVED = Date.parse("2015-01-01T00:00:00Z");
/** How far ahead of the service's clock a network's time may be (clocks and time zones set wrong by hours). */
const MOST_AHEAD_MS = 24 * 60 * 60 * 1000;

/**
 * The record, or, when the network's time cannot be right, a copy at `arrival` (the service's clock when it
 * came) with the network's time noted in `timeNote`: one uplink stamped 9999-12-31 must not hold a plug's
 * last_seen, online state and power for ever. Called once, when the message arrives: the spool and the
 * quarantine keep the time chosen then.
 */
export function withBelievableTime(record: Received, arrival = new Date()): Received {
  const time = record.type === "uplink" ? record.receivedAt : record.time;
  const at = Date.parse(time);
  const why = at < EARLIEST_BELIEVED ? "before 2015"
    : at > arrival.getTime() + MOST_AHEAD_MS ? `more than a day ahead of the service's clock (${arrival.toISOString()})`
    : undefined;
  if (!why) return record;
  const timeNote = `the network's time ${time} was not believed (${why}): the time the service received the message is used`;
  return record.type === "uplink"
    ? { ...record, receivedAt: arrival.toISOString(), timeNote }
    : { ...record, time: arrival.toISOString(), timeNote };
}
