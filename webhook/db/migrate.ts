// Applies migrations/*.sql in order with postgrator, which records each with its checksum.
// An advisory lock makes instances that start at once take turns.
import { join } from "node:path";
import Postgrator from "postgrator";
import { projectPath } from "../paths";
import type { Database } from "./database";

const MIGRATIONS = projectPath("migrations");
/** Any fixed 64-bit number; this one spells "16ASPM" in ASCII. */
const LOCK_ID = 0x3136_4153_504d;

/** Applies the migrations up to `target` (a version, e.g. "009"; all by default). */
export async function migrate(db: Database, target?: string): Promise<string[]> {
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
      const applied = await postgrator.migrate(target);
      return applied.map((m) => `${m.version} ${m.name}`);
    } finally {
      await session.query("SELECT pg_advisory_unlock($1)", [LOCK_ID]);
    }
  });
}

/**
 * Migrates now if the database answers; if it cannot be reached, keeps trying in the background (the
 * service meanwhile spools what it accepts). A database that answers with an error (bad credentials, a
 * failing migration) is not retried: that needs a person.
 */
export async function migrateWhenReachable(db: Database, onRetry: (error: Error) => void, delayMs = 2000): Promise<{ applied: Promise<string[]> }> {
  // A server's own error has a severity; a connection failure does not, or is a connection-class SQLSTATE.
  const unreachable = (error: unknown) => {
    const { severity, code } = error as { severity?: unknown; code?: unknown };
    return typeof severity !== "string" || /^(08|57P)/.test(String(code));
  };
  /** The migrations applied, or undefined when the database could not be reached. */
  const attempt = async (): Promise<string[] | undefined> => {
    try {
      return await migrate(db);
    } catch (error) {
      if (!unreachable(error)) throw error;
      onRetry(error as Error);
      return undefined;
    }
  };
  const first = await attempt();
  if (first) return { applied: Promise.resolve(first) };
  const applied = (async () => {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const done = await attempt();
      if (done) return done;
    }
  })();
  return { applied };
}
