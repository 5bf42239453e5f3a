// The databases the webhook tests run on: PGlite always, real PostgreSQL when TEST_DATABASE_URL is set.
// Each test file gets a database of its own, made for it and dropped after it.
import { randomBytes } from "node:crypto";
import { type Database, pglite, postgres } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";

export interface TestDatabase {
  db: Database;
  /** The database's URL (PostgreSQL only), for tests that start the service as a process. */
  url?: string;
  drop(): Promise<void>;
}

export type DatabaseFactory = () => Promise<TestDatabase>;

/** A new database on the server at `serverUrl`, named `<prefix>_<random>` (tests and benchmarks). */
export async function freshPostgres(serverUrl: string, prefix = "aspm16_test"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, 1);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = postgres(url.toString());
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

export const DATABASES: [string, DatabaseFactory][] = [
  ["PGlite", async () => {
    const db = await pglite();
    return { db, drop: () => db.close() };
  }],
];
if (process.env.TEST_DATABASE_URL) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  DATABASES.push(["PostgreSQL", () => freshPostgres(serverUrl)]);
}

/** A fresh, migrated database. */
export async function migratedDatabase(factory: DatabaseFactory): Promise<TestDatabase> {
  const test = await factory();
  await migrate(test.db);
  return test;
}
