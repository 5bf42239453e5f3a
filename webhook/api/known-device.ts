// The {devEui} of a read, lowercased, once the device is known; 404 otherwise.
import type { Queryable } from "../db/database";
import { ApiError } from "./errors";

export async function knownDevice(db: Queryable, devEui: string): Promise<string> {
  const id = devEui.toLowerCase();
  const { rows } = await db.query("SELECT 1 FROM devices WHERE dev_eui = $1", [id]);
  if (rows.length === 0) throw new ApiError(404, `device ${id} is not known: it appears once the service has received an uplink or join from it`);
  return id;
}
