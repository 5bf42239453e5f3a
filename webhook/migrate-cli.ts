// npm run migrate: apply the migrations to the configured database and exit. Failures are one line
// on stderr and exit code 1.
import { loadConfig } from "./config";
import { lockDataDir } from "./db/data-dir-lock";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";
import { describeError } from "./errors";

async function run(): Promise<string> {
  const config = loadConfig(process.env);
  // The embedded database lives in DATA_DIR, which a running service must have to itself.
  const lock = config.databaseUrl ? undefined : lockDataDir(config.dataDir, "npm run migrate");
  try {
    const { db, description } = await openDatabase(config);
    try {
      const applied = await migrate(db).catch((error: unknown) => {
        throw new Error(`${description}: ${describeError(error)}`);
      });
      return applied.length > 0 ? `${description}: applied ${applied.join(", ")}` : `${description}: up to date`;
    } finally {
      await db.close().catch(() => {});
    }
  } finally {
    lock?.release();
  }
}

await run().then(
  (line) => console.log(line),
  (error: unknown) => {
    console.error(`npm run migrate failed: ${describeError(error)}`);
    process.exitCode = 1;
  },
);
