// What a user changes about a plug (contract §4, "Device names and removal"): its name, which network servers'
// names no longer overwrite (migration 016), and its removal from the fleet.
import type { Database } from "../db/database";
import { unknownDevice } from "./devices";

/** The name a user gave, stripped; null returns to the network's name. 400 from the route for anything else. */
export async function renameDevice(db: Database, devEui: string, name: string | null): Promise<void> {
  const { rows } = await db.query("UPDATE devices SET user_name = $2 WHERE dev_eui = $1 RETURNING 1", [devEui.toLowerCase(), name]);
  if (rows.length === 0) throw unknownDevice(devEui);
}

/** What a removal erased (rows per table) and what it kept. */
export interface Removal {
  devEui: string;
  erased: Record<string, number>;
  kept: string[];
}

/** The tables of a plug's history: kept by a removal unless `eraseHistory`. */
const HISTORY = ["readings", "readings_hourly", "readings_daily", "uplinks"] as const;

/**
 * Removes a plug from the fleet in one transaction: its row in `devices` (so it leaves every list, status and
 * dashboard variable), its keep-alive setting and the history of its changes, its downlinks and its events (protection trips, responses,
 * joins). Its energy history (readings, the hourly and daily rollups) and its raw uplinks are kept, so past
 * totals stay true, unless `eraseHistory`. A plug that sends again afterwards comes back as a new device.
 */
export async function removeDevice(db: Database, devEui: string, eraseHistory: boolean): Promise<Removal> {
  const id = devEui.toLowerCase();
  return db.transaction(async (tx) => {
    // The device's row first, locked: a batch storing the plug's uplinks meanwhile waits, then re-creates it.
    const { rows } = await tx.query("SELECT 1 FROM devices WHERE dev_eui = $1 FOR UPDATE", [id]);
    if (rows.length === 0) throw unknownDevice(id);
    const erased: Record<string, number> = {};
    const erase = async (table: string) => {
      // A plug's uplinks by whichever index uplinks has (migration 017: the old key's dev_eui, or device_key).
      const plug = table === "uplinks" ? "dev_eui = $1 AND device_key(dev_eui) = device_key($1)" : "dev_eui = $1";
      const result = await tx.query<{ n: string }>(`WITH gone AS (DELETE FROM ${table} WHERE ${plug} RETURNING 1) SELECT count(*) AS n FROM gone`, [id]);
      erased[table] = Number(result.rows[0].n);
    };
    // keepalive_desired refers to downlinks, and all four to devices.
    for (const table of ["keepalive_changes", "keepalive_desired", "downlinks", "device_events"]) await erase(table);
    if (eraseHistory) for (const table of HISTORY) await erase(table);
    await erase("devices");
    return { devEui: id, erased, kept: eraseHistory ? [] : [...HISTORY] };
  });
}
