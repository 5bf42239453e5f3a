// A plug's protection trips and recoveries and its relay switching (the protection_events and
// relay_events views), newest first, for its page.
import type { Queryable } from "../db/database";

export type DeviceEvent =
  | { time: string; type: "protection"; protection: string; phase: "trip" | "recovery"; eventCount: number | null; value: number | null; unit: string }
  | { time: string; type: "relay"; source: "manual" | "reported" | "keepalive"; relayState: "ON" | "OFF" };

/** At most this many events of each type are answered. */
export const EVENTS_LIMIT = 500;

export async function deviceEvents(db: Queryable, devEui: string, from: Date, to: Date): Promise<DeviceEvent[]> {
  const range = [devEui, from, to, EVENTS_LIMIT];
  const [protection, relay] = await Promise.all([
    db.query<{ time: Date; protection: string; phase: "trip" | "recovery"; event_count: number | null; value: number | null; unit: string }>(
      `SELECT time, protection, phase, event_count, value, unit FROM protection_events
       WHERE dev_eui = $1 AND time >= $2 AND time < $3 ORDER BY time DESC LIMIT $4`, range),
    db.query<{ time: Date; source: "manual" | "reported" | "keepalive"; relay_on: boolean }>(
      `SELECT time, source, relay_on FROM relay_events
       WHERE dev_eui = $1 AND time >= $2 AND time < $3 ORDER BY time DESC LIMIT $4`, range),
  ]);
  const events: DeviceEvent[] = [
    ...protection.rows.map((r) => ({ time: r.time.toISOString(), type: "protection" as const, protection: r.protection, phase: r.phase,
      eventCount: r.event_count, value: r.value === null ? null : Number(r.value), unit: r.unit })),
    ...relay.rows.map((r) => ({ time: r.time.toISOString(), type: "relay" as const, source: r.source, relayState: r.relay_on ? "ON" as const : "OFF" as const })),
  ];
  return events.sort((a, b) => b.time.localeCompare(a.time));
}
