// The device object of the management API (contract §4): identity, online state, latest reading, keep-alive
// (desired / reported / state, from the device_keepalive view) and airtime (webhook/keepalive/airtime.ts).
import type { Queryable } from "../db/database";
import { ApiError } from "./errors";
import { type Airtime, keepAliveAirtime } from "../keepalive/airtime";

export type KeepaliveState = "in_sync" | "pending" | "failed" | "unknown";

export interface Device {
  devEui: string;
  name: string | null;
  application: string | null;
  network: "ttn" | "chirpstack";
  online: boolean;
  lastSeen: string | null;
  /** The time of the latest keep-alive, whose figures follow. */
  lastReadingAt: string | null;
  power_W: number | null;
  energy_Wh: number | null;
  acVoltage_V: number | null;
  acCurrent_mA: number | null;
  internalTemperature: number | null;
  relayState: "ON" | "OFF" | null;
  keepalive: {
    desired: number | null;
    reported: number | null;
    state: KeepaliveState;
    lastDownlinkAt: string | null;
    attempts: number;
    /** Why the last round failed (the network's refusal, or no report after the retries). */
    error?: string;
    /** Adaptive: the desired period follows the plug's radio (webhook/keepalive/adaptive.ts). */
    mode: "fixed" | "adaptive";
    /** The adaptive target in minutes; null in fixed mode. */
    target: number | null;
    /** Why the desired period is what it is; null when nothing is desired. */
    reason: string | null;
  };
  /**
   * Null until an uplink has carried the plug's spreading factor. `measuredSecondsLast24h` (one device's
   * answer only): the time on air of the uplinks it sent in the last 24 hours, each by its own payload,
   * spreading factor and bandwidth. It reads the plug's last day of uplinks; over a fleet that is every
   * uplink of the day (0.3 ms a plug at 10-minute keep-alives, bench:devices), so the list leaves it out.
   */
  airtime: (Airtime & { periodMinutes: number; measuredSecondsLast24h?: number }) | null;
}

interface DeviceRow {
  dev_eui: string;
  name: string | null;
  application: string | null;
  network: "ttn" | "chirpstack";
  online: boolean;
  last_seen: Date | null;
  last_keepalive_at: Date | null;
  power_w: number | null;
  energy_wh: string | number | null;
  voltage_v: number | null;
  current_ma: number | null;
  temperature_c: number | null;
  relay_on: boolean | null;
  desired_minutes: number | null;
  reported_minutes: number | null;
  state: KeepaliveState;
  attempts: number;
  last_downlink_at: Date | null;
  error: string | null;
  spreading_factor: number | null;
  /** 125 kHz when the network did not say (the view's default). */
  bandwidth_hz: number | null;
  /** Reported, else 10. */
  period_minutes: number;
  mode: "fixed" | "adaptive" | null;
  target_minutes: number | null;
  reason: string | null;
  /** One device's read only. */
  measured_seconds?: number;
}

// device_status (migration 002) for online state and the latest reading, device_keepalive (007, 013) for the rest.
const COLUMNS = `s.dev_eui, s.name, s.application, s.network, s.online, s.last_seen, s.last_keepalive_at,
  s.power_w, s.energy_wh, s.voltage_v, s.current_ma, s.temperature_c, s.relay_on,
  k.desired_minutes, k.reported_minutes, k.state, k.attempts, k.last_downlink_at, k.error,
  k.spreading_factor, k.bandwidth_hz, k.period_minutes, k.mode, k.target_minutes, k.reason`;
const FROM = "FROM device_status s JOIN device_keepalive k USING (dev_eui)";
const SELECT_DEVICES = `SELECT ${COLUMNS} ${FROM}`;
/** One device's read, with its measured airtime: one index range of its last day of uplinks (migration 013). */
const SELECT_DEVICE = `SELECT ${COLUMNS}, uplink_airtime_seconds(s.dev_eui, now() - interval '24 hours', now()) AS measured_seconds ${FROM}`;

const iso = (time: Date | null) => (time ? time.toISOString() : null);

function toDevice(row: DeviceRow): Device {
  const hasReading = row.last_keepalive_at !== null && row.power_w !== null;
  return {
    devEui: row.dev_eui,
    name: row.name,
    application: row.application,
    network: row.network,
    online: row.online,
    lastSeen: iso(row.last_seen),
    lastReadingAt: hasReading ? iso(row.last_keepalive_at) : null,
    power_W: hasReading ? row.power_w : null,
    energy_Wh: hasReading && row.energy_wh !== null ? Number(row.energy_wh) : null,
    acVoltage_V: hasReading ? row.voltage_v : null,
    acCurrent_mA: hasReading ? row.current_ma : null,
    internalTemperature: hasReading ? row.temperature_c : null,
    relayState: row.relay_on === null ? null : row.relay_on ? "ON" : "OFF",
    keepalive: {
      desired: row.desired_minutes,
      reported: row.reported_minutes,
      state: row.state,
      lastDownlinkAt: iso(row.last_downlink_at),
      attempts: row.attempts,
      ...(row.error !== null && row.state === "failed" ? { error: row.error } : {}),
      mode: row.mode ?? "fixed",
      target: row.target_minutes,
      reason: row.reason,
    },
    airtime: row.spreading_factor === null ? null : {
      ...keepAliveAirtime(row.spreading_factor, row.bandwidth_hz!, row.period_minutes),
      periodMinutes: row.period_minutes,
      ...(row.measured_seconds !== undefined ? { measuredSecondsLast24h: row.measured_seconds } : {}),
    },
  };
}

export interface ListOptions {
  /** Only the devices of this application (TTS application id, ChirpStack application name). */
  application?: string;
}

/** Every known device, ordered by devEui. */
export async function listDevices(db: Queryable, options: ListOptions = {}): Promise<Device[]> {
  const { rows } = options.application === undefined
    ? await db.query<DeviceRow>(`${SELECT_DEVICES} ORDER BY s.dev_eui`)
    : await db.query<DeviceRow>(`${SELECT_DEVICES} WHERE s.application = $1 ORDER BY s.dev_eui`, [options.application]);
  return rows.map(toDevice);
}

/** One device by its DevEUI in either case; undefined when unknown. */
export async function getDevice(db: Queryable, devEui: string): Promise<Device | undefined> {
  const { rows } = await db.query<DeviceRow>(`${SELECT_DEVICE} WHERE s.dev_eui = $1`, [devEui.toLowerCase()]);
  return rows[0] ? toDevice(rows[0]) : undefined;
}

/** The 404 for a DevEUI the service has not heard of. */
export function unknownDevice(devEui: string): ApiError {
  return new ApiError(404, `device ${devEui.toLowerCase()} is not known: it appears once the service has received an uplink or join from it`);
}
