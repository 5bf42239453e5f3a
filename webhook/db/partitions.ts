// The time partitions of uplinks, readings and device_events (migration 010, contract §6): one a week,
// <table>_pYYYYMMDD from Monday 00:00 UTC, made ahead; the ones past their retention dropped; the closed
// ones' indexes rebuilt once, dense; and the rows the default partition caught moved or expired. One pass
// at a time across every instance (an advisory lock); a pass that finds nothing to do changes nothing.
import type { Database, Queryable, Session } from "./database";

export interface Retention {
  /** Days kept; 0 keeps everything. */
  uplinksDays: number;
  readingsDays: number;
  eventsDays: number;
}

interface Series {
  table: string;
  column: string;
  days: (retention: Retention) => number;
}

export const SERIES: readonly Series[] = [
  { table: "uplinks", column: "received_at", days: (r) => r.uplinksDays },
  { table: "readings", column: "time", days: (r) => r.readingsDays },
  { table: "device_events", column: "time", days: (r) => r.eventsDays },
];

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Weeks made ahead of the current one. */
const WEEKS_AHEAD = 2;
/** Any fixed 64-bit number apart from migrate.ts's; this one spells "16ASPMP". */
const LOCK_ID = 0x3136_4153_504d_50n;
/** What marks a partition whose indexes were rebuilt after it closed. */
const REBUILT = "indexes rebuilt after the partition closed";
/** How long a pass waits for a lock before leaving the step to the next pass, rather than queue writers behind it. */
const LOCK_TIMEOUT = "5s";

/** Monday 00:00 UTC of the week holding `time`. */
export function weekStart(time: Date): Date {
  const day = Math.floor(time.getTime() / DAY_MS);
  // 1970-01-01 was a Thursday: day 4 was a Monday.
  return new Date((day - ((day - 4) % 7 + 7) % 7) * DAY_MS);
}

function partitionName(table: string, start: Date): string {
  return `${table}_p${start.toISOString().slice(0, 10).replaceAll("-", "")}`;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

interface Partition {
  name: string;
  /** null: from MINVALUE (the _before partition), or the default partition. */
  from: Date | null;
  to: Date | null;
  isDefault: boolean;
  rebuilt: boolean;
}

async function partitions(db: Queryable, table: string): Promise<Partition[]> {
  // The bounds as PostgreSQL prints them, read back in SQL so no time zone is parsed by hand.
  const { rows } = await db.query<{ name: string; from: Date | null; to: Date | null; is_default: boolean; rebuilt: boolean }>(
    `SELECT c.relname AS name,
       (regexp_match(b.bound, 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS "from",
       (regexp_match(b.bound, 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS "to",
       b.bound = 'DEFAULT' AS is_default, coalesce(obj_description(c.oid, 'pg_class') = $2, false) AS rebuilt
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
     WHERE i.inhparent = $1::regclass ORDER BY 2 NULLS FIRST`, [table, REBUILT]);
  return rows.map((r) => ({ name: r.name, from: r.from, to: r.to, isDefault: r.is_default, rebuilt: r.rebuilt }));
}

/**
 * The table's columns for a new partition: the fixed-length ones first, by alignment (8, 4, 2, then 1 byte),
 * the variable-length ones last, so that no column is padded. A partition's columns need not be in its
 * table's order (rows are converted as they are routed): a reading is 8 bytes smaller so (80 bytes of row
 * instead of 88: its dev_eui, first in the table, made its time wait for the next 8-byte boundary).
 */
async function columnsByAlignment(db: Queryable, table: string): Promise<{ name: string; definition: string }[]> {
  const { rows } = await db.query<{ name: string; definition: string }>(
    `SELECT quote_ident(a.attname) AS name,
       format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END AS definition
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY t.typlen < 0, position(t.typalign IN 'disc'), a.attnum`, [table]);
  return rows;
}

/**
 * Makes the partition of the week from `start`: a table with the columns ordered by alignment, attached (which
 * locks the table against DDL only, not against writes). Rows the default partition caught for that week are
 * moved into it in the same transaction (a partition cannot be attached over rows the default one holds).
 */
async function createWeek(db: Session, series: Series, start: Date): Promise<string> {
  const { table, column } = series;
  const name = partitionName(table, start);
  const end = new Date(start.getTime() + WEEK_MS);
  const bounds = [start.toISOString(), end.toISOString()];
  const range = `${quote(column)} >= $1 AND ${quote(column)} < $2`;
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    const { rows } = await tx.query<{ caught: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${quote(`${table}_default`)} WHERE ${range}) AS caught`, bounds);
    const columns = await columnsByAlignment(tx, table);
    const create = async () => {
      await tx.query(`CREATE TABLE ${quote(name)} (${columns.map((c) => c.definition).join(", ")})`);
      await tx.query(`ALTER TABLE ${quote(table)} ATTACH PARTITION ${quote(name)} FOR VALUES FROM ('${bounds[0]}') TO ('${bounds[1]}')`);
    };
    if (!rows[0].caught) {
      await create();
      return `created ${name}`;
    }
    const fromDefault = `${quote(table)} DETACH PARTITION ${quote(`${table}_default`)}`;
    await tx.query(`ALTER TABLE ${fromDefault}`);
    await create();
    // By name: the new partition's columns are in another order than the default partition's.
    const names = columns.map((c) => c.name).join(", ");
    const { rows: moved } = await tx.query<{ n: string }>(
      `WITH moved AS (DELETE FROM ${quote(`${table}_default`)} WHERE ${range} RETURNING ${names}),
       stored AS (INSERT INTO ${quote(name)} (${names}) SELECT ${names} FROM moved RETURNING 1)
       SELECT count(*) AS n FROM stored`, bounds);
    await tx.query(`ALTER TABLE ${quote(table)} ATTACH PARTITION ${quote(`${table}_default`)} DEFAULT`);
    return `created ${name}, moving ${moved[0].n} rows into it from ${table}_default`;
  });
}

/** Deletes the rows of `partition` older than `cutoff` (a partition that is not a week: _before, _default). */
async function deleteExpired(db: Queryable, partition: string, column: string, cutoff: Date): Promise<string[]> {
  const { rows } = await db.query<{ n: string | number }>(
    `WITH gone AS (DELETE FROM ${quote(partition)} WHERE ${quote(column)} < $1 RETURNING 1) SELECT count(*) AS n FROM gone`, [cutoff.toISOString()]);
  return Number(rows[0].n) > 0 ? [`deleted ${rows[0].n} rows before ${cutoff.toISOString()} from ${partition}`] : [];
}

/**
 * The indexes a migration made ON ONLY a partitioned table (017: uplinks_key) on the partitions it left without
 * them (16 MB and more): each built (on PostgreSQL concurrently: writes go on) and attached; the last one
 * attached makes the table's index valid. Then uplinks' old primary key, which uplinks_key replaces, is dropped
 * (a moment's lock). A database migrated before 017 has nothing to do here.
 */
async function completeIndexes(db: Session, kind: Database["kind"], table: string): Promise<string[]> {
  const { rows: [known] } = await db.query<{ ok: boolean }>("SELECT to_regprocedure('partition_indexes_missing(regclass)') IS NOT NULL AS ok");
  if (!known.ok) return [];
  const concurrently = kind === "postgres" ? "CONCURRENTLY " : "";
  const done: string[] = [];
  const { rows } = await db.query<{ parent: string; index: string; create: string }>(
    `SELECT x.parent_index::text AS parent, format('%I.%I', n.nspname, x.index_name) AS index,
       format(x.definition, x.index_name, n.nspname, c.relname) AS create
     FROM partition_indexes_missing($1::regclass) x JOIN pg_class c ON c.oid = x.part JOIN pg_namespace n ON n.oid = c.relnamespace`, [table]);
  for (const m of rows) {
    // A build that failed before (the service stopped, a lock timeout) leaves an invalid index behind.
    await db.query(`DROP INDEX ${concurrently}IF EXISTS ${m.index}`);
    try {
      await db.query(m.create.replace(/^CREATE (UNIQUE )?INDEX /, `CREATE $1INDEX ${concurrently}`));
      await db.transaction(async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        await tx.query(`ALTER INDEX ${m.parent} ATTACH PARTITION ${m.index}`);
      });
    } catch (error) {
      // Reported, and the rest of the pass (retention above all) goes on; the old key keeps serving meanwhile.
      done.push(`could not build ${m.index} (${m.parent}), next pass tries again: ${(error as Error).message}`);
      continue;
    }
    done.push(`built and attached ${m.index} (${m.parent})`);
  }
  if (table === "uplinks") {
    const dropped = await db.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      return (await tx.query<{ dropped: boolean }>("SELECT uplinks_drop_old_key() AS dropped")).rows[0].dropped;
    });
    if (dropped) done.push("dropped uplinks_pkey (uplinks_key valid on every partition)");
  }
  return done;
}

/** One pass over one table: what it did, one line per action. */
async function maintainSeries(db: Session, kind: Database["kind"], series: Series, retention: Retention, now: Date): Promise<string[]> {
  const { table, column } = series;
  const done: string[] = [];
  // A table made a TimescaleDB hypertable (README, "A larger fleet") is TimescaleDB's to keep.
  const { rows: [rel] } = await db.query<{ relkind: string }>("SELECT relkind FROM pg_class WHERE oid = $1::regclass", [table]);
  if (rel.relkind !== "p") return [`${table} is not partitioned by time here: left alone`];
  const current = weekStart(now);
  const covered = (time: Date, list: Partition[]) =>
    list.some((p) => !p.isDefault && (p.from === null || p.from <= time) && p.to !== null && time < p.to);
  const days = series.days(retention);
  const cutoff = days > 0 ? new Date(now.getTime() - days * DAY_MS) : null;
  // The weeks from the end of the last partition (a service stopped for weeks leaves a gap), not before the
  // retention, to WEEKS_AHEAD after this one.
  let list = await partitions(db, table);
  // The weeks the default partition caught rows for (history loaded after the fact, a clock ahead), from the
  // retention on: made, and the rows moved into them.
  const { rows: caught } = await db.query<{ week: Date }>(
    `SELECT DISTINCT date_trunc('week', ${quote(column)}, 'UTC') AS week FROM ${quote(`${table}_default`)}
     WHERE $1::timestamptz IS NULL OR ${quote(column)} >= $1 ORDER BY 1`, [cutoff ? weekStart(cutoff).toISOString() : null]);
  for (const { week } of caught) {
    if (!covered(week, list)) done.push(await createWeek(db, series, week));
  }
  list = await partitions(db, table);
  const ends = list.filter((p) => p.to !== null).map((p) => p.to!.getTime());
  const lastEnd = ends.length > 0 ? Math.max(...ends) : current.getTime();
  let start = weekStart(new Date(Math.min(current.getTime(), Math.max(lastEnd, cutoff ? weekStart(cutoff).getTime() : -Infinity))));
  for (; start.getTime() <= current.getTime() + WEEKS_AHEAD * WEEK_MS; start = new Date(start.getTime() + WEEK_MS)) {
    if (!covered(start, list)) done.push(await createWeek(db, series, start));
  }
  list = await partitions(db, table);

  if (cutoff) {
    for (const p of list) {
      if (p.isDefault || p.to === null) continue;
      if (p.to <= cutoff) {
        // Detached first: dropping a partition would lock the whole table while the files are removed.
        await db.transaction(async (tx) => {
          await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          await tx.query(`ALTER TABLE ${quote(table)} DETACH PARTITION ${quote(p.name)}`);
        });
        await db.query(`DROP TABLE ${quote(p.name)}`);
        done.push(`dropped ${p.name} (${p.from ? p.from.toISOString().slice(0, 10) : "everything"} to ${p.to.toISOString().slice(0, 10)}, past ${days} days)`);
      } else if (p.from === null) {
        // The partition a converted table began with spans all its history: its expired rows go one by one.
        done.push(...await deleteExpired(db, p.name, column, cutoff));
      }
    }
    // Rows a late message put in the default partition for a time no partition covers any more.
    done.push(...await deleteExpired(db, `${table}_default`, column, cutoff));
    list = await partitions(db, table);
  }
  // Rows moved out of the default partition or deleted leave its file as large: emptied, it is truncated
  // (under its lock, so that no row arrives between the look and the truncation).
  done.push(...await db.transaction(async (tx) => {
    const name = quote(`${table}_default`);
    const { rows: [size] } = await tx.query<{ bytes: string | number }>("SELECT pg_relation_size($1::regclass) AS bytes", [`${table}_default`]);
    if (Number(size.bytes) === 0) return [];
    await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    await tx.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
    const { rows: [left] } = await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${name}) AS any`);
    if (left.any) return [];
    await tx.query(`TRUNCATE ${name}`);
    return [`emptied ${table}_default (${Math.round(Number(size.bytes) / 1024)} kB)`];
  }));

  done.push(...await completeIndexes(db, kind, table));

  // A week's index entries arrive interleaved across plugs, which leaves pages half full; once the week is
  // over its indexes are rebuilt, dense, once. On PostgreSQL concurrently (writes to it go on). Its pages are
  // filled whole (fillfactor 100): a closed week takes new entries only from late uplinks.
  for (const p of list) {
    if (p.isDefault || p.rebuilt || p.to === null || p.to > current) continue;
    const { rows: indexes } = await db.query<{ name: string }>(
      "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.indrelid = $1::regclass",
      [p.name]);
    for (const index of indexes) await db.query(`ALTER INDEX ${index.name} SET (fillfactor = 100)`);
    await db.query(`REINDEX TABLE ${kind === "postgres" ? "CONCURRENTLY " : ""}${quote(p.name)}`);
    await db.query(`COMMENT ON TABLE ${quote(p.name)} IS '${REBUILT}'`);
    done.push(`rebuilt the indexes of ${p.name}`);
  }
  return done;
}

/**
 * One maintenance pass over the three tables (contract §6): what it did, one line per action. Instances
 * running it at once take turns; the later one finds the work done.
 */
export async function maintainPartitions(db: Database, retention: Retention, now = new Date()): Promise<string[]> {
  return db.session(async (session) => {
    // Polled, not waited for: a statement waiting for the lock would hold a snapshot, which the other
    // pass's REINDEX CONCURRENTLY waits to see end (a deadlock).
    while (!(await session.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [LOCK_ID.toString()])).rows[0].locked) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    try {
      const done: string[] = [];
      for (const series of SERIES) done.push(...await maintainSeries(session, db.kind, series, retention, now));
      return done;
    } finally {
      await session.query("SELECT pg_advisory_unlock($1)", [LOCK_ID.toString()]);
    }
  });
}

const HOUR_MS = 3_600_000;

/**
 * A pass now and every hour, each reported to `log` (a failed pass too: the next one tries again). Returns
 * what stops it, and waits for a pass under way.
 */
export function scheduleMaintenance(db: Database, retention: Retention, log: { info(o: object, m: string): void; error(o: object, m: string): void }): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  // One pass after the other: the advisory lock does not keep apart two passes of one PGlite (one session).
  const pass = () => {
    running = running.then(() => maintainPartitions(db, retention)).then(
      (done) => log.info({ done }, done.length > 0 ? "partitions maintained" : "partitions up to date"),
      (error: unknown) => log.error({ err: error }, "partition maintenance failed; next pass in an hour"),
    );
  };
  pass();
  const timer = setInterval(pass, HOUR_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
