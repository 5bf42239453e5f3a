// What a network route is: the way downlinks reach one network server (TTS webhooks, ChirpStack's API).
import type { Network } from "../ingest/records";

/** The device a downlink goes to, as the devices table knows it. */
export interface Target {
  devEui: string;
  /** TTS: the end device id (devices.name). */
  deviceId: string | null;
  /** TTS: the application id. */
  application: string | null;
}

export interface Delivery {
  fPort: number;
  bytes: Uint8Array;
  confirmed: boolean;
  /** The reference made by `reference()` when the downlink was recorded, if the route makes one. */
  ref: string | null;
}

export interface NetworkRoute {
  readonly network: Network;
  /** Why downlinks cannot reach `target`, naming what to configure; undefined when they can. */
  unavailable(target: Target): string | undefined;
  /** A reference to send with the downlink, known before it is pushed (TTS correlation ids); or null. */
  reference(): string | null;
  /** Hands the downlink to the network server; resolves to the reference its events will carry. Throws PushError. */
  push(target: Target, delivery: Delivery): Promise<string | null>;
  close(): void;
}

/** The network API is unreachable or refused the downlink; the message is safe to store and show. */
export class PushError extends Error {}

/** `text` with every secret replaced, so a key echoed back by a server is never stored or logged. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("<redacted>");
  return out;
}
