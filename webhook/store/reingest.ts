// Stores quarantined records again, after a fix (a migration that widens a column, the device's first
// message with its DevEUI): each in its own transaction, deleted from the quarantine in the same one,
// so it is stored exactly once. The set-aside file's records are moved into the table first.
import type { Database } from "../db/database";
import { recordFromJson } from "../ingest/records";
import { storeRecords } from "./accept";
import { quarantine, setAside, takeSetAside } from "./quarantine";

export interface RetryReport {
  /** Records moved from the set-aside file into the table. */
  fromFile: number;
  stored: number;
  duplicates: number;
  /** Still quarantined, with the reason (unchanged, or the new one). */
  kept: { id: string; reason: string }[];
}

function sqlstateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^2[23]/.test(code) ? code : undefined;
}

export async function retryQuarantine(db: Database, o: { ids?: string[]; setAsideFile?: string } = {}): Promise<RetryReport> {
  const report: RetryReport = { fromFile: 0, stored: 0, duplicates: 0, kept: [] };
  if (o.setAsideFile) {
    const { entries, done } = await takeSetAside(o.setAsideFile);
    for (const { record, reason } of entries) {
      try {
        await db.transaction((tx) => quarantine(tx, [{ record, reason, sqlstate: null }]));
        report.fromFile++;
      } catch (error) {
        if (!sqlstateOf(error)) throw error;
        // Not even text can hold it: it stays in the file.
        await setAside(o.setAsideFile, record, reason);
      }
    }
    await done();
  }

  const { rows } = await db.query<{ id: string; record: string }>(
    `SELECT id::text, record FROM quarantine ${o.ids ? "WHERE id = ANY($1::bigint[])" : ""} ORDER BY id`, o.ids ? [o.ids] : []);
  for (const { id, record } of rows) {
    try {
      const written = await db.transaction(async (tx) => {
        const [w] = (await storeRecords(tx, [recordFromJson(record)])).written;
        if (w.outcome !== "quarantined") await tx.query("DELETE FROM quarantine WHERE id = $1", [id]);
        return w;
      });
      if (written.outcome === "stored") report.stored++;
      else if (written.outcome === "duplicate") report.duplicates++;
      else report.kept.push({ id, reason: written.reason ?? "" });
    } catch (error) {
      const sqlstate = sqlstateOf(error);
      if (!sqlstate) throw error;
      const reason = `the database refused it: ${(error as Error).message} (SQLSTATE ${sqlstate})`;
      await db.query("UPDATE quarantine SET reason = $2, sqlstate = $3, attempts = attempts + 1, quarantined_at = now() WHERE id = $1", [id, reason, sqlstate]);
      report.kept.push({ id, reason });
    }
  }
  return report;
}
