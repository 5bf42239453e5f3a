// A plug's power, voltage, current and temperature over a time range, for its charts: every keep-alive
// over a week or less; hourly averages (the rollup) beyond, so a month stays a few hundred points. Field
// names and types are the device object's (and the codec's): `relayState` is "ON" / "OFF" wherever it appears.
import type { Queryable } from "../db/database";

/** Ranges up to this long are answered keep-alive by keep-alive. */
export const RAW_READINGS_MAX_MS = 7 * 86_400_000;

interface Measured {
  time: string;
  power_W: number;
  acVoltage_V: number;
  acCurrent_mA: number;
  internalTemperature: number;
}

/** One keep-alive: the relay's state as the plug reported it. */
export interface KeepalivePoint extends Measured { relayState: "ON" | "OFF" }

/** One hour's averages: the share of the hour the relay was on (0..1), a share rather than a state. */
export interface HourPoint extends Measured { relayOnShare: number }

export type ReadingSeries = { resolution: "keepalive"; points: KeepalivePoint[] } | { resolution: "hour"; points: HourPoint[] };

interface Row { time: Date; power: number; voltage: number; current: number; temperature: number; relay: number }

export async function readingSeries(db: Queryable, devEui: string, from: Date, to: Date): Promise<ReadingSeries> {
  const raw = to.getTime() - from.getTime() <= RAW_READINGS_MAX_MS;
  const { rows } = await db.query<Row>(raw
    ? `SELECT time, power_w AS power, voltage_v AS voltage, current_ma AS current, temperature_c AS temperature,
         CASE WHEN relay_on THEN 1 ELSE 0 END AS relay
       FROM readings WHERE dev_eui = $1 AND time >= $2 AND time < $3 ORDER BY time`
    : `SELECT hour AS time, power_avg_w AS power, voltage_avg_v AS voltage, current_avg_ma AS current,
         temperature_avg_c AS temperature, relay_on_seconds / 3600.0 AS relay
       FROM power_hourly WHERE dev_eui = $1 AND hour >= $2 AND hour < $3 ORDER BY hour`,
    [devEui, from, to]);
  const round = (n: number) => Math.round(Number(n) * 10) / 10;
  const measured = (r: Row): Measured => ({
    time: r.time.toISOString(), power_W: round(r.power), acVoltage_V: round(r.voltage), acCurrent_mA: round(r.current), internalTemperature: round(r.temperature),
  });
  return raw
    ? { resolution: "keepalive", points: rows.map((r) => ({ ...measured(r), relayState: Number(r.relay) === 1 ? "ON" : "OFF" })) }
    : { resolution: "hour", points: rows.map((r) => ({ ...measured(r), relayOnShare: Math.min(1, Math.round(Number(r.relay) * 100) / 100) })) };
}
