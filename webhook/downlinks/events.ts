// The network servers' downlink events, stored by ingest, move downlinks along: TTS downlink_sent/ack/nack/failed
// (matched by the correlation id this service sent), ChirpStack txack/ack (matched by the queue item id).
// A state only moves forward, so events applied late or twice change nothing.
import type { Queryable } from "../db/database";
import type { Network } from "../ingest/records";
import { type Downlink, downlinkColumns, type DownlinkRow, toDownlink } from "./store";
import { TTS_CORRELATION_PREFIX } from "./tts";

export interface Transition {
  ref: string;
  state: "sent" | "acked" | "nacked" | "failed";
  error: string | null;
}

/** How far along a state is; queued is 0. */
const RANK: Record<Transition["state"], number> = { sent: 1, acked: 2, nacked: 2, failed: 2 };

/** What the transitions read of an event (ingest's event records, or device_events rows). */
export interface DownlinkEvent {
  network: Network;
  kind: string;
  data: Record<string, unknown>;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** TTS's error details ({name, message_format, …}) as one line. */
function ttsError(error: unknown): string {
  const e = (error ?? {}) as { name?: unknown; message_format?: unknown; namespace?: unknown };
  const parts = [e.namespace, e.name, e.message_format].filter((p) => typeof p === "string" && p !== "");
  return `The Things Stack reported the downlink failed${parts.length ? `: ${parts.join(": ")}` : ""}`;
}

function ttsTransition(kind: string, data: Record<string, unknown>): Transition[] {
  const downlink = (data.downlink ?? {}) as Record<string, unknown>;
  const refs = [...strings(data.correlation_ids), ...strings(downlink.correlation_ids)].filter((id) => id.startsWith(TTS_CORRELATION_PREFIX));
  let state: Transition["state"];
  let error: string | null = null;
  switch (kind) {
    case "downlink_sent": state = "sent"; break;
    case "downlink_ack": state = "acked"; break;
    case "downlink_nack": state = "nacked"; error = "The Things Stack: the device did not acknowledge the confirmed downlink"; break;
    case "downlink_failed": state = "failed"; error = ttsError(data.error); break;
    default: return [];
  }
  return [...new Set(refs)].map((ref) => ({ ref, state, error }));
}

function chirpstackTransition(kind: string, data: Record<string, unknown>): Transition[] {
  const ref = data.queueItemId;
  if (typeof ref !== "string" || ref === "") return [];
  if (kind === "downlink_sent") return [{ ref, state: "sent", error: null }];
  if (kind !== "downlink_ack" && kind !== "downlink_nack") return [];
  // Empty values are left out of ChirpStack's JSON: an ack without `acknowledged` is a nack.
  return data.acknowledged === true
    ? [{ ref, state: "acked", error: null }]
    : [{ ref, state: "nacked", error: "ChirpStack: the device did not acknowledge the confirmed downlink" }];
}

/** The state changes a batch of events asks for: the furthest one per downlink. */
export function downlinkTransitions(events: DownlinkEvent[]): Transition[] {
  const best = new Map<string, Transition>();
  for (const event of events) {
    if (!event.kind.startsWith("downlink_")) continue;
    const found = event.network === "ttn" ? ttsTransition(event.kind, event.data) : chirpstackTransition(event.kind, event.data);
    for (const t of found) {
      const known = best.get(t.ref);
      if (!known || RANK[t.state] >= RANK[known.state]) best.set(t.ref, t);
    }
  }
  return [...best.values()];
}

const APPLY = `
WITH t AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(ref text, state text, error text, rank integer))
UPDATE downlinks d SET state = t.state, error = coalesce(t.error, d.error), updated_at = now(),
  next_attempt_at = NULL, pushed_at = coalesce(d.pushed_at, now())
FROM t
WHERE d.network_ref = t.ref AND (CASE d.state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 ELSE 2 END) < t.rank
RETURNING ${downlinkColumns("d")}`;

/** Applies the transitions; returns the downlinks whose state moved. */
export async function applyTransitions(q: Queryable, transitions: Transition[]): Promise<Downlink[]> {
  if (transitions.length === 0) return [];
  const rows = transitions.map((t) => ({ ...t, rank: RANK[t.state] }));
  const { rows: changed } = await q.query<DownlinkRow>(APPLY, [JSON.stringify(rows)]);
  return changed.map(toDownlink);
}

/** Ingest's hook: the downlink events among `records` applied in the same transaction that stores them. */
export function applyDownlinkEvents(q: Queryable, records: readonly ({ type: "uplink" } | ({ type: "event" } & DownlinkEvent))[]): Promise<Downlink[]> {
  const events = records.filter((r): r is { type: "event" } & DownlinkEvent => r.type === "event");
  return applyTransitions(q, downlinkTransitions(events));
}

/**
 * Events that arrived before the network API's answer told us the reference (a Class C device's txack can
 * beat ChirpStack's Enqueue reply): found among the stored events and applied.
 */
export async function applyStoredEvents(q: Queryable, devEui: string, ref: string): Promise<Downlink[]> {
  const { rows } = await q.query<DownlinkEvent>(
    `SELECT network, kind, data FROM device_events
     WHERE dev_eui = $1 AND kind IN ('downlink_sent', 'downlink_ack', 'downlink_nack', 'downlink_failed')
       AND (data ->> 'queueItemId' = $2 OR data -> 'correlation_ids' ? $2 OR data #> '{downlink,correlation_ids}' ? $2)`,
    [devEui, ref]);
  return applyTransitions(q, downlinkTransitions(rows));
}
