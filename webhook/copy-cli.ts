// npm run copy-to-postgres -- <postgres URL>: moves the embedded database of DATA_DIR into PostgreSQL
// (TARGET_DATABASE_URL instead of the argument keeps the password out of the process list). DATA_DIR
// stays locked throughout, so the service cannot write to the source while it is read.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "./config";
import { copyDatabase } from "./db/copy";
import { lockDataDir } from "./db/data-dir-lock";
import { pglite, postgres } from "./db/database";
import { describeError } from "./errors";

const USAGE = "usage: npm run copy-to-postgres -- postgres://user:password@host:5432/database   (or set TARGET_DATABASE_URL)";

async function run(args: string[]): Promise<void> {
  if (args.includes("--help")) return console.log(USAGE);
  const targetUrl = args[0] ?? process.env.TARGET_DATABASE_URL;
  if (!targetUrl) throw new Error(USAGE);
  let target: URL;
  try {
    target = new URL(targetUrl);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(targetUrl)}\n${USAGE}`);
  }
  if (!/^postgres(ql)?:$/.test(target.protocol)) throw new Error(`expected a postgres:// URL, got ${target.protocol}//…\n${USAGE}`);

  const { dataDir } = loadConfig({ ...process.env, DATABASE_URL: "" });
  const sourceDir = join(dataDir, "pglite");
  if (!existsSync(join(sourceDir, "PG_VERSION"))) throw new Error(`no embedded database in ${sourceDir} (set DATA_DIR to the service's data directory)`);
  const lock = lockDataDir(dataDir, "npm run copy-to-postgres");
  try {
    const source = await pglite(sourceDir);
    const into = postgres(targetUrl, 1);
    try {
      console.log(`copying ${sourceDir} into PostgreSQL at ${target.host}${target.pathname}`);
      const report = await copyDatabase(source, into, (table, rows) => console.log(`  ${table}: ${rows} rows`));
      const total = report.tables.reduce((sum, t) => sum + t.rows, 0);
      console.log(`done: ${total} rows in ${report.tables.length} tables, ${report.sequences.length} sequences.
Next: start the service with DATABASE_URL set to this database and the same DATA_DIR (it keeps the
tokens, and stores into PostgreSQL anything still waiting in the spool).`);
    } finally {
      await into.close();
      await source.close();
    }
  } finally {
    lock.release();
  }
}

await run(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`npm run copy-to-postgres failed: ${describeError(error)}`);
  process.exitCode = 1;
});
