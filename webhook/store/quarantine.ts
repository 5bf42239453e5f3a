// Where accepted records go when the tables cannot take them (migration 005): the quarantine table,
// and, when even that refuses (the record holds what no text column can, or the database went away
// meanwhile), a set-aside file beside the spool. Both are emptied by `npm run quarantine -- retry`.
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Queryable } from "../db/database";
import { type Received, recordFromJson, recordToJson } from "../ingest/records";

export interface QuarantineEntry {
  record: Received;
  reason: string;
  /** The database's SQLSTATE when it refused the record. */
  sqlstate: string | null;
}

/** The set-aside file in a spool directory. */
export function setAsidePath(spoolDir: string): string {
  return join(spoolDir, "set-aside.jsonl");
}

function timeOf(record: Received): string {
  return record.type === "uplink" ? record.receivedAt : record.time;
}

/** One message, whichever way it comes back: the same message quarantined twice is one row. */
function identity(record: Received): string {
  const device = record.devEui ?? `${record.application ?? ""}/${record.deviceName ?? ""}`;
  return `${record.network}|${device}|${timeOf(record)}|${record.dedupKey}`;
}

const INSERT = `
INSERT INTO quarantine (network, dev_eui, application, device_name, kind, time, record, reason, sqlstate, identity)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (identity) DO UPDATE SET
  reason = EXCLUDED.reason, sqlstate = EXCLUDED.sqlstate, quarantined_at = now(), attempts = quarantine.attempts + 1`;

/** Quarantines records (one statement each: a rare path, and plain parameters carry anything text can). */
export async function quarantine(q: Queryable, entries: QuarantineEntry[]): Promise<void> {
  for (const { record, reason, sqlstate } of entries) {
    await q.query(INSERT, [
      record.network, record.devEui, record.application, record.deviceName,
      record.type === "uplink" ? "uplink" : record.kind, timeOf(record), recordToJson(record), reason, sqlstate, identity(record),
    ]);
  }
}

/** Appends a record to the set-aside file and fsyncs it. */
export async function setAside(path: string, record: Received, reason: string): Promise<void> {
  const file = await open(path, "a", 0o600);
  try {
    await file.write(`{"at":${JSON.stringify(new Date().toISOString())},"reason":${JSON.stringify(reason)},"record":${recordToJson(record)}}\n`);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** The set-aside file's records (none when there is no file). A line cut short by a crash was never acknowledged: it is left out. */
export async function readSetAside(path: string): Promise<{ record: Received; reason: string }[]> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  return text.split("\n").filter(Boolean).flatMap((line) => {
    try {
      const { reason, record } = JSON.parse(line) as { reason: string; record: unknown };
      return [{ reason, record: recordFromJson(JSON.stringify(record)) }];
    } catch {
      return [];
    }
  });
}

/**
 * Takes the set-aside file's records: the file is renamed first, so that a service still running
 * starts a new one; `done` removes it once they are safely elsewhere (until then a crash keeps it,
 * and the next call takes that one first).
 */
export async function takeSetAside(path: string): Promise<{ entries: { record: Received; reason: string }[]; done: () => Promise<void> }> {
  const taking = `${path}.taking`;
  const leftOver = await stat(taking).then(() => true, () => false);
  if (!leftOver) {
    await rename(path, taking).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
  return { entries: await readSetAside(taking), done: () => rm(taking, { force: true }) };
}

export interface QuarantineRow {
  id: string;
  quarantined_at: Date;
  network: string;
  dev_eui: string | null;
  application: string | null;
  device_name: string | null;
  kind: string;
  time: string;
  reason: string;
  sqlstate: string | null;
  attempts: number;
}

/** The quarantined records, oldest first (without the records themselves). */
export async function listQuarantine(q: Queryable, limit = 1000): Promise<QuarantineRow[]> {
  const { rows } = await q.query<QuarantineRow>(
    `SELECT id::text, quarantined_at, network, dev_eui, application, device_name, kind, time, reason, sqlstate, attempts
     FROM quarantine ORDER BY id LIMIT $1`, [limit]);
  return rows;
}
