// The database the configuration names: PostgreSQL at DATABASE_URL, else PGlite under DATA_DIR.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config";
import { type Database, pglite, postgres } from "./database";

export async function openDatabase(config: Config): Promise<{ db: Database; description: string }> {
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    return { db: postgres(config.databaseUrl, config.poolSize), description: `PostgreSQL at ${url.host}${url.pathname}` };
  }
  const dir = join(config.dataDir, "pglite");
  await mkdir(dir, { recursive: true });
  return { db: await pglite(dir), description: `embedded PGlite in ${dir}` };
}
