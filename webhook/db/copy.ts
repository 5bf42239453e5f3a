// Copies everything the service stored from one database into another (the embedded PGlite of DATA_DIR
// into PostgreSQL): the same migrations on both, every table's rows (rollups included) and sequences.
// Rows travel as PostgreSQL's own JSON text, never as JavaScript values, so bigints, floats, bytea and
// timestamps arrive exactly; the target is written in one transaction, so a failed copy leaves it empty.
import type { Database, Queryable } from "./database";
import { migrate } from "./migrate";

export interface CopyReport {
  /** Rows copied per table, in the order the tables were filled. */
  tables: { table: string; rows: number }[];
  /** Sequences whose position was carried over. */
  sequences: string[];
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const BATCH_ROWS = 2000;

/** The schema's tables, each after the tables its foreign keys point to. */
async function tablesInOrder(db: Queryable): Promise<string[]> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'schema_migrations' ORDER BY 1`);
  const { rows: keys } = await db.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
     JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = 'public' AND c.relname <> p.relname`);
  const ordered: string[] = [];
  const visit = (table: string, path: string[]) => {
    if (ordered.includes(table)) return;
    if (path.includes(table)) throw new Error(`foreign keys form a cycle: ${[...path, table].join(" → ")}`);
    for (const { parent } of keys.filter((k) => k.child === table)) visit(parent, [...path, table]);
    ordered.push(table);
  };
  for (const { name } of tables) visit(name, []);
  return ordered;
}

/** Columns a row is written with: generated columns are computed by the target itself. */
async function writableColumns(db: Queryable, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [`public.${quote(table)}`]);
  return rows.map((r) => r.name);
}

async function migrationVersions(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ versions: string | null }>("SELECT string_agg(version::text, ',' ORDER BY version) AS versions FROM schema_migrations");
  return rows[0].versions ?? "";
}

/**
 * Copies `source` into `target`. Both are migrated first; the target must hold no rows yet.
 * `onTable` hears of each table as it is done (for progress on the command line).
 */
export async function copyDatabase(source: Database, target: Database, onTable?: (table: string, rows: number) => void): Promise<CopyReport> {
  await migrate(source);
  await migrate(target);
  const [from, to] = [await migrationVersions(source), await migrationVersions(target)];
  if (from !== to) throw new Error(`the databases' migrations differ (source ${from}, target ${to})`);
  const tables = await tablesInOrder(source);
  for (const table of tables) {
    const { rows } = await target.query<{ any: boolean }>(`SELECT EXISTS (SELECT FROM ${quote(table)}) AS any`);
    if (rows[0].any) throw new Error(`the target already holds rows in ${table}: copy into a new, empty database`);
  }

  const report: CopyReport = { tables: [], sequences: [] };
  await target.transaction(async (into) => {
    // Rows arrive as they are, derived ones included (fleet_energy_hourly): the triggers that keep those at ingest
    // would count them twice. Off for the copy's transaction only (a failed copy rolls this back too).
    for (const table of tables) await into.query(`ALTER TABLE ${quote(table)} DISABLE TRIGGER USER`);
    await source.transaction(async (tx) => {
      for (const table of tables) {
        const columns = (await writableColumns(tx, table)).map(quote).join(", ");
        await tx.query(`DECLARE copy_rows NO SCROLL CURSOR FOR SELECT row_to_json(r)::text AS row FROM (SELECT ${columns} FROM ${quote(table)}) r`);
        let copied = 0;
        for (;;) {
          const { rows } = await tx.query<{ row: string }>(`FETCH ${BATCH_ROWS} FROM copy_rows`);
          if (rows.length === 0) break;
          await into.query(
            `INSERT INTO ${quote(table)} (${columns}) OVERRIDING SYSTEM VALUE
             SELECT ${columns} FROM json_populate_recordset(NULL::${quote(table)}, $1::json)`,
            [`[${rows.map((r) => r.row).join(",")}]`]);
          copied += rows.length;
        }
        await tx.query("CLOSE copy_rows");
        report.tables.push({ table, rows: copied });
        onTable?.(table, copied);
      }
      const { rows: sequences } = await tx.query<{ name: string; value: string | null }>(
        "SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1");
      for (const { name, value } of sequences) {
        // A sequence never used has no last value: the target's fresh one is already right.
        if (value === null) continue;
        await into.query("SELECT setval($1::regclass, $2::bigint, true)", [`public.${quote(name)}`, value]);
        report.sequences.push(name);
      }
    });
    for (const table of tables) await into.query(`ALTER TABLE ${quote(table)} ENABLE TRIGGER USER`);
    // Checked inside the transaction: a count that differs rolls the whole copy back.
    for (const { table, rows } of report.tables) {
      const { rows: counted } = await into.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quote(table)}`);
      if (Number(counted[0].n) !== rows) throw new Error(`${table}: ${rows} rows read but ${counted[0].n} written`);
    }
  });
  return report;
}
