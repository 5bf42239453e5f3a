// The keepalive_desired table (migration 007): a plug's desired period and the round of downlinks that
// makes it so. Every change is a conditional UPDATE, so two service instances never send the same retry.
import type { Queryable } from "../db/database";

/** A plug whose desired period needs the reconciler: its round is due, drifted or done. */
export interface Round {
  devEui: string;
  minutes: number;
  reported: number | null;
  state: "in_sync" | "pending" | "failed";
  attempts: number;
  /** As stored (ISO with microseconds): the claim compares it exactly. */
  nextAttemptAt: string | null;
  failedAt: string | null;
}

/** How a desired period came about: its mode, its target (adaptive), why, and who changed it. */
export interface Desire {
  mode: "fixed" | "adaptive";
  target: number | null;
  reason: string;
  /** The desired period before (null: none), for the plug's history (keepalive_changes). */
  from: number | null;
  cause: "api" | "fleet" | "radio";
}

/** Records `minutes` as desired and starts a round with its first downlink already sent. */
export async function startRound(q: Queryable, r: { devEui: string; minutes: number; reported: number | null; downlinkId: string; at: Date; next: Date } & Desire): Promise<void> {
  await q.query(
    `INSERT INTO keepalive_desired (dev_eui, minutes, requested_at, attempts, last_downlink_id, last_downlink_at, next_attempt_at, reported_seen,
       mode, target, reason, judged_at)
     VALUES ($1, $2, $3, 1, $4, $3, $5, $6, $7, $8, $9, (SELECT last_seen FROM devices WHERE dev_eui = $1))
     ON CONFLICT (dev_eui) DO UPDATE SET minutes = EXCLUDED.minutes, requested_at = EXCLUDED.requested_at, attempts = 1,
       last_downlink_id = EXCLUDED.last_downlink_id, last_downlink_at = EXCLUDED.last_downlink_at,
       next_attempt_at = EXCLUDED.next_attempt_at, reported_seen = EXCLUDED.reported_seen, failed_at = NULL, error = NULL,
       mode = EXCLUDED.mode, target = EXCLUDED.target, reason = EXCLUDED.reason, judged_at = EXCLUDED.judged_at`,
    [r.devEui, r.minutes, r.at, r.downlinkId, r.next, r.reported, r.mode, r.target, r.reason]);
  await recordChange(q, r.devEui, r.at, r);
}

/** A line of the plug's history of desired periods. */
export async function recordChange(q: Queryable, devEui: string, at: Date, d: Desire & { minutes: number }): Promise<void> {
  await q.query(`INSERT INTO keepalive_changes (dev_eui, at, from_minutes, to_minutes, cause, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
    [devEui, at, d.from, d.minutes, d.cause, d.reason]);
}

/**
 * The rounds the reconciler acts on at `now`: in sync but not settled; pending and due, or pending with
 * nothing scheduled (the plug reported another period after it was in sync); failed, but the plug has
 * reported another period since.
 */
export async function roundsToReconcile(q: Queryable, now: Date): Promise<Round[]> {
  const { rows } = await q.query<{
    dev_eui: string; minutes: number; reported: number | null; state: Round["state"]; attempts: number;
    next_attempt_at: string | null; failed_at: string | null;
  }>(
    `SELECT k.dev_eui, k.minutes, d.keepalive_minutes AS reported, keepalive_state(k.minutes, d.keepalive_minutes, k.failed_at) AS state,
       k.attempts, k.next_attempt_at::text, k.failed_at::text
     FROM keepalive_desired k JOIN devices d USING (dev_eui)
     WHERE CASE keepalive_state(k.minutes, d.keepalive_minutes, k.failed_at)
       WHEN 'in_sync' THEN k.next_attempt_at IS NOT NULL OR k.failed_at IS NOT NULL
       WHEN 'pending' THEN k.next_attempt_at IS NULL OR k.next_attempt_at <= $1
       ELSE d.keepalive_minutes IS DISTINCT FROM k.reported_seen END
     ORDER BY k.next_attempt_at NULLS FIRST`,
    [now]);
  return rows.map((r) => ({
    devEui: r.dev_eui, minutes: r.minutes, reported: r.reported, state: r.state, attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at, failedAt: r.failed_at,
  }));
}

const UNCHANGED = `dev_eui = $1 AND minutes = $2 AND attempts = $3 AND next_attempt_at IS NOT DISTINCT FROM $4::timestamptz
  AND failed_at IS NOT DISTINCT FROM $5::timestamptz`;
const unchanged = (r: Round) => [r.devEui, r.minutes, r.attempts, r.nextAttemptAt, r.failedAt];

/** The plug reports the desired period: nothing outstanding. */
export async function settle(q: Queryable, r: Round): Promise<void> {
  await q.query(`UPDATE keepalive_desired SET next_attempt_at = NULL, failed_at = NULL, error = NULL, reported_seen = $6 WHERE ${UNCHANGED}`,
    [...unchanged(r), r.reported]);
}

/**
 * Claims the next attempt of a round (a new round when `fresh`): true when this caller is to send it. A
 * concurrent PUT or another instance changes the row first, and the claim finds nothing.
 */
export async function claimAttempt(q: Queryable, r: Round, fresh: boolean, at: Date, next: Date): Promise<boolean> {
  const { rows } = await q.query(
    `UPDATE keepalive_desired SET attempts = ${fresh ? 1 : "attempts + 1"}, last_downlink_at = $6, next_attempt_at = $7,
       failed_at = NULL, error = NULL, reported_seen = $8
     WHERE ${UNCHANGED} RETURNING dev_eui`,
    [...unchanged(r), at, next, r.reported]);
  return rows.length > 0;
}

/** The downlink sent for the attempt claimed at `at`. */
export async function attemptSent(q: Queryable, devEui: string, at: Date, downlinkId: string): Promise<void> {
  await q.query(`UPDATE keepalive_desired SET last_downlink_id = $3 WHERE dev_eui = $1 AND last_downlink_at = $2`, [devEui, at, downlinkId]);
}

/** The attempt claimed at `at` could not be sent (the device lost its downlink route): the round fails. */
export async function attemptFailed(q: Queryable, devEui: string, at: Date, error: string): Promise<void> {
  await q.query(`UPDATE keepalive_desired SET next_attempt_at = NULL, failed_at = $2, error = $3 WHERE dev_eui = $1 AND last_downlink_at = $2`,
    [devEui, at, error]);
}

/** Ends a round as failed, unless it moved on meanwhile. */
export async function failRound(q: Queryable, r: Round, at: Date, error: string): Promise<void> {
  await q.query(`UPDATE keepalive_desired SET next_attempt_at = NULL, failed_at = $6, error = $7, reported_seen = $8 WHERE ${UNCHANGED}`,
    [...unchanged(r), at, error, r.reported]);
}

/** Ends the round whose latest downlink is `downlinkId` as failed: the network refused or lost it. */
export async function failByDownlink(q: Queryable, downlinkId: string, at: Date, error: string): Promise<void> {
  await q.query(
    `UPDATE keepalive_desired k SET next_attempt_at = NULL, failed_at = $2, error = $3, reported_seen = d.keepalive_minutes
     FROM devices d WHERE d.dev_eui = k.dev_eui AND k.last_downlink_id = $1 AND k.failed_at IS NULL`,
    [downlinkId, at, error]);
}
