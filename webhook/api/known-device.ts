// The {devEui} of a read, lowercased, once the device is known; the device API's 404 otherwise.
import type { Queryable } from "../db/database";
import { unknownDevice } from "./devices";

export async function knownDevice(db: Queryable, devEui: string): Promise<string> {
  const id = devEui.toLowerCase();
  const { rows } = await db.query("SELECT 1 FROM devices WHERE dev_eui = $1", [id]);
  if (rows.length === 0) throw unknownDevice(id);
  return id;
}
