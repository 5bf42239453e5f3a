// What adaptive mode reads and writes (migration 013): the radio a plug is judged at, the plugs to judge, the
// plugs a fleet or application target adopts, what a plug has used of its day, and the application targets.
import type { Queryable } from "../db/database";
import { type Airtime, FAIR_USE_DOWNLINKS_PER_DAY, keepAliveAirtime } from "./airtime";
import { TTS_CORRELATION_PREFIX } from "../downlinks/tts";
import { HOLD_HOURS, HOLD_PERIODS } from "./adaptive";

/** The radio judged (./adaptive.ts): columns spreading_factor and bandwidth_hz, null when no uplink said. */
interface RadioColumns {
  spreading_factor: number | null;
  bandwidth_hz: number | null;
}

/**
 * LATERAL joins giving `r.spreading_factor, r.bandwidth_hz` for the plug `device` (an SQL expression) at `at`
 * (a parameter) with a desired period of `minutes` (an expression): the slowest of its uplinks in the hold
 * window (HOLD_HOURS, or HOLD_PERIODS periods when longer), else (none in it) its latest uplink's. Both are
 * index ranges of the plug's uplinks (plug_uplinks, migration 017).
 */
function radioJoins(device: string, at: string, minutes: string): string {
  const radio = "u.spreading_factor, coalesce(u.bandwidth_hz, 125000) AS bandwidth_hz";
  const usable = "u.spreading_factor IS NOT NULL AND NOT u.simulated";
  return `
  LEFT JOIN LATERAL (
    SELECT ${radio} FROM plug_uplinks(${device}) u
    WHERE ${usable} AND u.received_at <= ${at}
      AND u.received_at > ${at} - greatest(interval '${HOLD_HOURS} hours', ${minutes} * interval '${HOLD_PERIODS} minutes')
    ORDER BY lora_time_on_air_ms(25, u.spreading_factor, coalesce(u.bandwidth_hz, 125000)) DESC LIMIT 1
  ) w ON true
  LEFT JOIN LATERAL (
    SELECT ${radio} FROM plug_uplinks(${device}) u
    WHERE w.spreading_factor IS NULL AND ${usable} AND u.received_at <= ${at}
    ORDER BY u.received_at DESC LIMIT 1
  ) l ON true
  CROSS JOIN LATERAL (SELECT coalesce(w.spreading_factor, l.spreading_factor) AS spreading_factor,
    coalesce(w.bandwidth_hz, l.bandwidth_hz) AS bandwidth_hz) r`;
}

/** A keep-alive's airtime at the radio judged (the period does not matter to the limits), or null. */
export function radioAirtime(row: RadioColumns): Airtime | null {
  return row.spreading_factor === null ? null : keepAliveAirtime(row.spreading_factor, row.bandwidth_hz ?? 125_000, 10);
}

/** The radio a plug is judged at, at `at`, for a desired period of `minutes`. */
export async function radioOf(q: Queryable, devEui: string, at: Date, minutes: number): Promise<Airtime | null> {
  const { rows: [row] } = await q.query<RadioColumns>(`SELECT r.spreading_factor, r.bandwidth_hz FROM (SELECT 1) one ${radioJoins("$1", "$2::timestamptz", "$3::integer")}`,
    [devEui, at, minutes]);
  return radioAirtime(row);
}

export interface Candidate extends RadioColumns {
  dev_eui: string;
  network: "ttn" | "chirpstack";
  minutes: number;
  target: number;
  reported: number | null;
  /** As stored (text, microseconds): a change claims the row only when it is unchanged. */
  judged_at: string | null;
  /** The plug's last_seen as read (text): what judged_at becomes once it is judged. */
  last_seen: string;
}

/** The adaptive plugs heard since they were last judged, with the radio to judge them at. */
export async function adaptiveCandidates(q: Queryable, at: Date): Promise<Candidate[]> {
  const { rows } = await q.query<Candidate>(
    `SELECT k.dev_eui, d.network, k.minutes, k.target, d.keepalive_minutes AS reported, k.judged_at::text, d.last_seen::text,
       r.spreading_factor, r.bandwidth_hz
     FROM keepalive_desired k JOIN devices d USING (dev_eui)
     ${radioJoins("k.dev_eui", "$1::timestamptz", "k.minutes")}
     WHERE k.mode = 'adaptive' AND d.last_seen IS NOT NULL AND (k.judged_at IS NULL OR d.last_seen > k.judged_at)`,
    [at]);
  return rows;
}

/**
 * Plugs heard with nothing desired, whose application has a target or, when `fleetTarget` is set, any: each
 * with its target and its radio. Without a fleet target only the applications with one are read.
 */
export async function adoptionCandidates(q: Queryable, fleetTarget: number | null, at: Date): Promise<Omit<Candidate, "minutes" | "judged_at" | "last_seen">[]> {
  const { rows } = await q.query<Omit<Candidate, "minutes" | "judged_at" | "last_seen">>(
    `SELECT a.dev_eui, a.network, a.target, a.reported, r.spreading_factor, r.bandwidth_hz
     FROM (SELECT d.dev_eui, d.network, d.keepalive_minutes AS reported, coalesce(t.minutes, $1::integer) AS target
           FROM devices d ${fleetTarget === null ? "" : "LEFT"} JOIN keepalive_targets t ON t.application = d.application
           WHERE d.last_seen IS NOT NULL AND NOT EXISTS (SELECT FROM keepalive_desired k WHERE k.dev_eui = d.dev_eui)) a
     ${radioJoins("a.dev_eui", "$2::timestamptz", "a.target")}
     WHERE a.target IS NOT NULL`,
    [fleetTarget, at]);
  return rows;
}

/**
 * The claim of a change by the pass that judged `c`: true when the row is as that pass read it (no PUT or
 * other instance changed it meanwhile); for a plug with nothing desired, the row is created empty-handed and
 * the change then fills it. Run in the transaction that queues the downlink.
 */
export async function claimChange(q: Queryable, c: { dev_eui: string; minutes?: number; judged_at?: string | null }, at: Date): Promise<boolean> {
  const { rows } = c.minutes === undefined
    ? await q.query(`INSERT INTO keepalive_desired (dev_eui, minutes, requested_at) VALUES ($1, 10, $2) ON CONFLICT DO NOTHING RETURNING dev_eui`, [c.dev_eui, at])
    : await q.query(
      `SELECT dev_eui FROM keepalive_desired WHERE dev_eui = $1 AND mode = 'adaptive' AND minutes = $2 AND judged_at IS NOT DISTINCT FROM $3::timestamptz
       FOR UPDATE`,
      [c.dev_eui, c.minutes, c.judged_at]);
  return rows.length > 0;
}

/**
 * The plug was judged and keeps its period (a change that must wait says so in `reason`). `judged_at` takes
 * the last_seen the pass read: an uplink stored later, even one sent before the pass ran, is judged again.
 */
export async function markJudged(q: Queryable, c: Candidate, reason: string): Promise<void> {
  await q.query(`UPDATE keepalive_desired SET judged_at = $4, reason = $5
    WHERE dev_eui = $1 AND mode = 'adaptive' AND minutes = $2 AND judged_at IS NOT DISTINCT FROM $3::timestamptz`,
  [c.dev_eui, c.minutes, c.judged_at, c.last_seen, reason]);
}

/** A change that could not be sent (no downlink route): recorded as desired, its round failed with `error`. */
export async function recordUnsent(q: Queryable, r: { devEui: string; minutes: number; target: number; reason: string; reported: number | null; at: Date; error: string }): Promise<void> {
  await q.query(
    `INSERT INTO keepalive_desired AS k (dev_eui, minutes, requested_at, attempts, failed_at, error, reported_seen, mode, target, reason, judged_at)
     VALUES ($1, $2, $3, 0, $3, $4, $5, 'adaptive', $6, $7, (SELECT last_seen FROM devices WHERE dev_eui = $1))
     ON CONFLICT (dev_eui) DO UPDATE SET minutes = EXCLUDED.minutes, requested_at = EXCLUDED.requested_at, attempts = 0,
       next_attempt_at = NULL, failed_at = EXCLUDED.failed_at, error = EXCLUDED.error, reported_seen = EXCLUDED.reported_seen,
       mode = 'adaptive', target = EXCLUDED.target, reason = EXCLUDED.reason, judged_at = EXCLUDED.judged_at`,
    [r.devEui, r.minutes, r.at, r.error, r.reported, r.target, r.reason]);
}

/**
 * What the plug has used of its day at `at`: its radio changes, and, when `ttnDownlinks`, the downlinks it
 * was sent in the last 24 hours (this service's, whatever their purpose, unless they failed, and those TTS
 * reported sent for others, e.g. from its console). Downlink rows carry the database's time.
 */
export async function usedToday(q: Queryable, devEui: string, at: Date, ttnDownlinks: boolean): Promise<{ radioChangesLast24h: number; downlinksLast24h: number | null }> {
  const { rows: [row] } = await q.query<{ changes: number; downlinks: number | null }>(
    `SELECT (SELECT count(*)::integer FROM keepalive_changes WHERE dev_eui = $1 AND cause = 'radio' AND at > $2::timestamptz - interval '24 hours') AS changes,
       CASE WHEN $3::boolean THEN
         (SELECT count(*)::integer FROM downlinks WHERE dev_eui = $1 AND created_at > now() - interval '24 hours' AND state <> 'failed')
         + (SELECT count(*)::integer FROM device_events WHERE dev_eui = $1 AND time > now() - interval '24 hours' AND kind = 'downlink_sent'
              AND data::text NOT LIKE '%' || $4 || '%')
       END AS downlinks`,
    [devEui, at, ttnDownlinks, TTS_CORRELATION_PREFIX]);
  return { radioChangesLast24h: row.changes, downlinksLast24h: row.downlinks };
}

/**
 * Whether an adaptive TTS plug's next keep-alive downlink must wait for TTN's 10 a day (under ttn-fair-use):
 * a retry or a correction of its round counts like any other downlink.
 */
export async function ttnDayIsFull(q: Queryable, devEui: string, at: Date): Promise<boolean> {
  const { rows: [row] } = await q.query<{ adaptive: boolean }>(
    `SELECT k.mode = 'adaptive' AND d.network = 'ttn' AS adaptive FROM keepalive_desired k JOIN devices d USING (dev_eui) WHERE k.dev_eui = $1`, [devEui]);
  if (!row?.adaptive) return false;
  const { downlinksLast24h } = await usedToday(q, devEui, at, true);
  return downlinksLast24h! >= FAIR_USE_DOWNLINKS_PER_DAY;
}

/** An application's target for its new plugs (null: none, they take KEEPALIVE_TARGET_MINUTES). */
export async function setApplicationTarget(q: Queryable, application: string, minutes: number | null): Promise<void> {
  if (minutes === null) await q.query(`DELETE FROM keepalive_targets WHERE application = $1`, [application]);
  else await q.query(`INSERT INTO keepalive_targets (application, minutes) VALUES ($1, $2) ON CONFLICT (application) DO UPDATE SET minutes = EXCLUDED.minutes, set_at = now()`, [application, minutes]);
}
