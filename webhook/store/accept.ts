// One transaction's work on accepted records: a record without DevEUI gets its device's, found by the
// network, application and device id it did carry; the records of known devices are written (batch.ts);
// the rest are quarantined, to be retried once their device is known.
import type { Database, Queryable } from "../db/database";
import { applyDownlinkEvents, downlinkTransitions } from "../downlinks/events";
import type { Downlink } from "../downlinks/store";
import type { IngestRecord, Received, Written } from "../ingest/records";
import { writeBatch } from "./batch";
import { quarantine } from "./quarantine";

export interface AcceptResult {
  written: Written[];
  /** Stored uplinks whose payload gave decode errors. */
  decodeErrors: number;
  /** The kinds of the events stored uplinks brought (BatchResult). */
  eventKinds: string[];
}

// A device id is unique within its application at any one time; re-registered with another DevEUI,
// the device seen last is the one.
const FIND_DEVICES = `
SELECT DISTINCT ON (k.network, k.application, k.name) k.network, k.application, k.name, d.dev_eui
FROM jsonb_to_recordset($1::jsonb) AS k(network text, application text, name text)
JOIN devices d ON d.network = k.network AND d.application = k.application AND d.name = k.name
ORDER BY k.network, k.application, k.name, greatest(d.last_seen, d.first_seen) DESC, d.dev_eui`;

const deviceKey = (network: string, application: string | null, name: string | null) => JSON.stringify([network, application, name]);

/** Why a record without DevEUI cannot be placed yet. */
function unplaced(record: Received): string {
  return `no DevEUI, and no device ${record.network} application ${JSON.stringify(record.application)} device ${JSON.stringify(record.deviceName)} ` +
    "is known yet: kept in quarantine until one of its messages carries the DevEUI, then `npm run quarantine -- retry`";
}

async function acceptBatch(tx: Queryable, records: Received[]): Promise<AcceptResult> {
  const found = new Map<string, string>();
  const missing = records.filter((r) => r.devEui === null && r.application !== null && r.deviceName !== null);
  if (missing.length > 0) {
    const keys = [...new Map(missing.map((r) => [deviceKey(r.network, r.application, r.deviceName),
      { network: r.network, application: r.application, name: r.deviceName }])).values()];
    const { rows } = await tx.query<{ network: string; application: string; name: string; dev_eui: string }>(FIND_DEVICES, [JSON.stringify(keys)]);
    for (const row of rows) found.set(deviceKey(row.network, row.application, row.name), row.dev_eui);
  }

  const known: { index: number; record: IngestRecord }[] = [];
  const unknown: { index: number; record: Received; reason: string }[] = [];
  records.forEach((record, index) => {
    if (record.devEui !== null) return known.push({ index, record: record as IngestRecord });
    const devEui = found.get(deviceKey(record.network, record.application, record.deviceName));
    if (devEui) known.push({ index, record: { ...record, devEui } as IngestRecord });
    else unknown.push({ index, record, reason: unplaced(record) });
  });

  const written: Written[] = new Array(records.length);
  let decodeErrors = 0;
  let eventKinds: string[] = [];
  if (known.length > 0) {
    const result = await writeBatch(tx, known.map((k) => k.record));
    known.forEach((k, i) => (written[k.index] = { outcome: result.outcomes[i], devEui: k.record.devEui }));
    ({ decodeErrors, eventKinds } = result);
  }
  if (unknown.length > 0) {
    await quarantine(tx, unknown.map((u) => ({ record: u.record, reason: u.reason, sqlstate: null })));
    for (const u of unknown) written[u.index] = { outcome: "quarantined", reason: u.reason };
  }
  return { written, decodeErrors, eventKinds };
}

/**
 * Everything one transaction does with accepted records, for the service and `npm run quarantine` alike:
 * accept them, and let their downlink events move their downlinks.
 */
export async function storeRecords(tx: Queryable, records: Received[]): Promise<AcceptResult & { moved: Downlink[] }> {
  const result = await acceptBatch(tx, records);
  return { ...result, moved: await applyDownlinkEvents(tx, records) };
}

/**
 * storeRecords in a transaction of their own. Records that all carry their DevEUI and move no downlink
 * (nearly every batch) take the batch statement alone, which is its own transaction: sent without BEGIN
 * and COMMIT, it saves two of a batch's three round trips.
 */
export async function commitRecords(db: Database, records: Received[]): Promise<AcceptResult & { moved: Downlink[] }> {
  const placed = records.filter((r): r is IngestRecord => r.devEui !== null);
  if (placed.length < records.length || downlinkTransitions(placed.filter((r) => r.type === "event")).length > 0) {
    return db.transaction((tx) => storeRecords(tx, records));
  }
  // Every record placed: acceptBatch finds no device and quarantines nothing, so its one statement is all.
  return { ...await acceptBatch(db, records), moved: [] };
}
