// What the routes hand to the store: one network-neutral record per accepted message.

export type Network = "ttn" | "chirpstack";

interface DeviceRef {
  network: Network;
  /** 16 lowercase hex characters. */
  devEui: string;
  deviceName: string | null;
  application: string | null;
}

export interface UplinkRecord extends DeviceRef {
  type: "uplink";
  /** ISO 8601 as the network sent it (PostgreSQL keeps its microseconds). */
  receivedAt: string;
  dedupKey: string;
  fCnt: number | null;
  fPort: number | null;
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

/** "spooled": kept on disk while the database is unavailable, stored when it is back. */
export type Outcome = "stored" | "duplicate" | "spooled";
