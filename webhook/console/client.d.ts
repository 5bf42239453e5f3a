// The shapes the console's scripts read from /api (contract §4 and the console's read endpoints), for
// the type check of public/*.js (tsconfig.json here).

export interface Device {
  devEui: string;
  name: string | null;
  application: string | null;
  network: "ttn" | "chirpstack";
  online: boolean;
  lastSeen: string | null;
  lastReadingAt?: string | null;
  power_W: number | null;
  energy_Wh: number | null;
  acVoltage_V: number | null;
  acCurrent_mA: number | null;
  internalTemperature: number | null;
  relayState: "ON" | "OFF" | null;
  keepalive: { desired: number | null; reported: number | null; state: "in_sync" | "pending" | "failed" | "unknown"; lastDownlinkAt: string | null; attempts: number; error?: string;
    mode: "fixed" | "adaptive"; target: number | null; reason: string | null };
  airtime: { spreadingFactor: number; bandwidthHz: number; keepAliveMs: number; secondsPerDay: number; minMinutesDutyCycle: number; minMinutesFairUse: number; periodMinutes?: number; measuredSecondsLast24h?: number } | null;
}

export interface Downlink {
  id: string; devEui: string; network: string; fPort: number; bytes: string; data: Record<string, unknown>; confirmed: boolean;
  state: "queued" | "sent" | "acked" | "nacked" | "failed"; createdAt: string; updatedAt: string; error?: string; purpose?: string;
}

export interface EnergyPoint { time: string; energy_Wh: number; devices?: number }

interface Measured { time: string; power_W: number; acVoltage_V: number; acCurrent_mA: number; internalTemperature: number }

export type ReadingSeries =
  | { resolution: "keepalive"; points: (Measured & { relayState: "ON" | "OFF" })[] }
  | { resolution: "hour"; points: (Measured & { relayOnShare: number })[] };

export type DeviceEvent =
  | { time: string; type: "protection"; protection: string; phase: "trip" | "recovery"; eventCount: number | null; value: number | null; unit: string }
  | { time: string; type: "relay"; source: "manual" | "reported" | "keepalive"; relayState: "ON" | "OFF" };

/** A time range the pages show: its bounds and how users name it. */
export interface Range { key: "24h" | "7d" | "30d" | "custom"; from: Date; to: Date }
