// One interface over node-postgres and PGlite, so migrations and queries are the same on both.
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface Database extends Queryable {
  /** "postgres" or "pglite", for logs and the start-up message. */
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on one session (advisory locks are per session). */
  session<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface Session extends Queryable {
  /** Runs a script of several statements. */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction on this session. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export function postgres(connectionString: string, poolSize = 10): Database {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // A database that is down or cut off must fail a write in seconds, so the writer can spool it, not
    // hold it until TCP gives up.
    connectionTimeoutMillis: 5000,
    query_timeout: 30_000,
    keepAlive: true,
  });
  // A client losing its connection (a server restart, a cut link) must not crash the process: the pool
  // handles idle clients' errors; a checked-out client's surface in its next query, so its event is ignored.
  const ignore = () => {};
  pool.on("error", ignore);
  const checkOut = async () => {
    const client = await pool.connect();
    client.on("error", ignore);
    return client;
  };
  return {
    kind: "postgres",
    query: <R extends object>(sql: string, params?: unknown[]) => pool.query<R & pg.QueryResultRow>(sql, params),
    async transaction(fn) {
      const client = await checkOut();
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await fn(client as Queryable);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        // A connection that cannot even roll back is closed rather than handed to the next batch.
        client.release(broken);
        client.off("error", ignore);
      }
    },
    async session(fn) {
      const client = await checkOut();
      try {
        const query = <R extends object>(sql: string, params?: unknown[]) => client.query<R & pg.QueryResultRow>(sql, params);
        return await fn({
          query,
          exec: async (sql) => void (await client.query(sql)),
          async transaction(body) {
            await client.query("BEGIN");
            try {
              const result = await body({ query });
              await client.query("COMMIT");
              return result;
            } catch (error) {
              await client.query("ROLLBACK");
              throw error;
            }
          },
        });
      } finally {
        client.release();
        client.off("error", ignore);
      }
    },
    close: () => pool.end(),
  };
}

// PGlite reads timestamps with `new Date(text)`, which takes the years 0001–0099 for 1901–2099 (and BC
// for invalid): node-postgres's own parsers (postgres-date) read every year PostgreSQL writes, so both
// give back what was stored.
const TIMESTAMP_OIDS = [1114, 1184, 1115, 1185];
const TIMESTAMP_PARSERS = Object.fromEntries(TIMESTAMP_OIDS.map((oid) => [oid, pg.types.getTypeParser(oid, "text")]));

/** PGlite in `dataDir`, or in memory when `dataDir` is undefined. */
export async function pglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir, { parsers: TIMESTAMP_PARSERS });
  const query = <R extends object>(sql: string, params?: unknown[]) => db.query<R>(sql, params);
  const transaction: Database["transaction"] = (fn) =>
    db.transaction((tx) => fn({ query: <R extends object>(sql: string, params?: unknown[]) => tx.query<R>(sql, params) }));
  return {
    kind: "pglite",
    query,
    transaction,
    session: (fn) => fn({ query, exec: async (sql) => void (await db.exec(sql)), transaction }),
    close: () => db.close(),
  };
}
