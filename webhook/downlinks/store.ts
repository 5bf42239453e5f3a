// The downlinks table (migration 006): rows to Downlink objects, and the statements the service and sender use.
import type { Queryable } from "../db/database";
import type { Network } from "../ingest/records";

export interface Downlink {
  id: string;
  devEui: string;
  network: Network;
  fPort: number;
  /** Hex. */
  bytes: string;
  /** The encodeDownlink input. */
  data: Record<string, unknown>;
  confirmed: boolean;
  state: "queued" | "sent" | "acked" | "nacked" | "failed";
  createdAt: string;
  updatedAt: string;
  error?: string;
  purpose: string;
  attempts: number;
}

export interface DownlinkRow {
  id: string;
  dev_eui: string;
  network: Network;
  f_port: number;
  bytes: string;
  data: Record<string, unknown>;
  confirmed: boolean;
  state: Downlink["state"];
  purpose: string;
  created_at: Date | string;
  updated_at: Date | string;
  error: string | null;
  attempts: number;
  network_ref: string | null;
}

/** The columns a DownlinkRow reads, of the table aliased `alias`. */
export function downlinkColumns(alias = "downlinks"): string {
  const a = alias;
  return `${a}.id::text AS id, ${a}.dev_eui, ${a}.network, ${a}.f_port, encode(${a}.bytes, 'hex') AS bytes, ${a}.data, ${a}.confirmed,
    ${a}.state, ${a}.purpose, ${a}.created_at, ${a}.updated_at, ${a}.error, ${a}.attempts, ${a}.network_ref`;
}

const iso = (time: Date | string) => new Date(time).toISOString();

export function toDownlink(row: DownlinkRow): Downlink {
  return {
    id: row.id,
    devEui: row.dev_eui,
    network: row.network,
    fPort: row.f_port,
    bytes: row.bytes,
    data: row.data,
    confirmed: row.confirmed,
    state: row.state,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    ...(row.error !== null ? { error: row.error } : {}),
    purpose: row.purpose,
    attempts: row.attempts,
  };
}

export interface DeviceTarget {
  devEui: string;
  network: Network;
  deviceId: string | null;
  application: string | null;
}

export async function findDevice(q: Queryable, devEui: string): Promise<DeviceTarget | undefined> {
  const { rows: [row] } = await q.query<{ dev_eui: string; network: Network; name: string | null; application: string | null }>(
    "SELECT dev_eui, network, name, application FROM devices WHERE dev_eui = $1", [devEui]);
  return row && { devEui: row.dev_eui, network: row.network, deviceId: row.name, application: row.application };
}

export async function insertDownlink(q: Queryable, d: {
  devEui: string; network: Network; fPort: number; bytes: Uint8Array; data: Record<string, unknown>;
  confirmed: boolean; purpose: string; ref: string | null;
}): Promise<Downlink> {
  const { rows: [row] } = await q.query<DownlinkRow>(
    `INSERT INTO downlinks (dev_eui, network, f_port, bytes, data, confirmed, purpose, network_ref)
     VALUES ($1, $2, $3, decode($4, 'hex'), $5::jsonb, $6, $7, $8)
     RETURNING ${downlinkColumns()}`,
    [d.devEui, d.network, d.fPort, Buffer.from(d.bytes).toString("hex"), JSON.stringify(d.data), d.confirmed, d.purpose, d.ref]);
  return toDownlink(row);
}

export async function listDownlinks(q: Queryable, devEui: string, limit: number): Promise<Downlink[]> {
  const { rows } = await q.query<DownlinkRow>(
    `SELECT ${downlinkColumns()} FROM downlinks WHERE dev_eui = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [devEui, limit]);
  return rows.map(toDownlink);
}

/** A downlink claimed for a push, with what the route needs to reach its device. */
export interface Claimed {
  row: DownlinkRow;
  target: DeviceTarget;
}

/**
 * Claims up to `limit` downlinks that are due: each gets one more attempt and is leased for `leaseMs`, so
 * another instance (or this one after a crash) takes it only once the lease is over.
 */
export async function claimDue(q: Queryable, limit: number, leaseMs: number): Promise<Claimed[]> {
  const { rows } = await q.query<DownlinkRow & { name: string | null; application: string | null }>(
    `WITH due AS (
       SELECT id FROM downlinks WHERE state = 'queued' AND next_attempt_at <= now()
       ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE downlinks d SET attempts = d.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
     FROM due, devices dev
     WHERE d.id = due.id AND dev.dev_eui = d.dev_eui
     RETURNING ${downlinkColumns("d")}, dev.name, dev.application`,
    [limit, leaseMs]);
  return rows.map((row) => ({
    row,
    target: { devEui: row.dev_eui, network: row.network, deviceId: row.name, application: row.application },
  }));
}

/** The network server took the downlink. Events may already have moved it on: its state is left alone. */
export async function markPushed(q: Queryable, id: string, ref: string | null): Promise<Downlink> {
  const { rows: [row] } = await q.query<DownlinkRow>(
    `UPDATE downlinks SET pushed_at = coalesce(pushed_at, now()), network_ref = coalesce($2, network_ref),
       error = CASE WHEN state = 'queued' THEN NULL ELSE error END, next_attempt_at = NULL, updated_at = now()
     WHERE id = $1 RETURNING ${downlinkColumns()}`,
    [id, ref]);
  return toDownlink(row);
}

/** A push failed: try again after `retryInMs`, or, with null, mark it failed. The error is kept either way. */
export async function markPushFailed(q: Queryable, id: string, error: string, retryInMs: number | null): Promise<Downlink | undefined> {
  const { rows: [row] } = await q.query<DownlinkRow>(
    `UPDATE downlinks SET error = $2, updated_at = now(),
       state = CASE WHEN $3::bigint IS NULL THEN 'failed' ELSE state END,
       next_attempt_at = CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() + $3::bigint * interval '1 millisecond' END
     WHERE id = $1 AND state = 'queued' RETURNING ${downlinkColumns()}`,
    [id, error, retryInMs]);
  return row && toDownlink(row);
}

/** Milliseconds until the next downlink is due (0 when one is due now), or null when none waits. */
export async function nextDueInMs(q: Queryable): Promise<number | null> {
  // min() of no rows is NULL, and must stay so (greatest(0, NULL) would be 0: a busy loop).
  const { rows: [row] } = await q.query<{ ms: number | null }>(
    `SELECT (extract(epoch FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms
     FROM downlinks WHERE state = 'queued' AND next_attempt_at IS NOT NULL`);
  return row.ms === null ? null : Math.max(0, row.ms);
}
