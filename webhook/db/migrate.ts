// Applies migrations/*.sql in order with postgrator, which records each with its checksum.
// An advisory lock makes instances that start at once take turns.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Postgrator from "postgrator";
import type { Database } from "./database";

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "migrations");
/** Any fixed 64-bit number; this one spells "16ASPM" in ASCII. */
const LOCK_ID = 0x3136_4153_504d;

export async function migrate(db: Database): Promise<string[]> {
  return db.session(async (session) => {
    await session.query("SELECT pg_advisory_lock($1)", [LOCK_ID]);
    try {
      const postgrator = new Postgrator({
        migrationPattern: join(MIGRATIONS, "*.sql"),
        driver: "pg",
        schemaTable: "schema_migrations",
        execQuery: (sql) => session.query(sql),
        execSqlScript: (sql) => session.exec(sql),
      });
      const applied = await postgrator.migrate();
      return applied.map((m) => `${m.version} ${m.name}`);
    } finally {
      await session.query("SELECT pg_advisory_unlock($1)", [LOCK_ID]);
    }
  });
}
