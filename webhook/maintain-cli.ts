// npm run maintain: one pass of the partition maintenance the service runs every hour (contract §6), on the
// configured database, printing what it did. Migrations are applied first, as the service would.
import { loadConfig } from "./config";
import { lockDataDir } from "./db/data-dir-lock";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";
import { maintainPartitions } from "./db/partitions";
import { describeError } from "./errors";

async function run(): Promise<string> {
  const config = loadConfig(process.env);
  // The embedded database lives in DATA_DIR, which a running service must have to itself.
  const lock = config.databaseUrl ? undefined : lockDataDir(config.dataDir, "npm run maintain");
  try {
    const { db, description } = await openDatabase(config);
    try {
      await migrate(db);
      const { uplinksDays, readingsDays, eventsDays } = config.retention;
      const kept = (days: number) => (days > 0 ? `${days} days` : "kept");
      const done = await maintainPartitions(db, config.retention);
      return [
        `${description}: uplinks ${kept(uplinksDays)}, readings ${kept(readingsDays)}, device events ${kept(eventsDays)}`,
        ...(done.length > 0 ? done.map((line) => `  ${line}`) : ["  nothing to do"]),
      ].join("\n");
    } finally {
      await db.close().catch(() => {});
    }
  } finally {
    lock?.release();
  }
}

await run().then(
  (text) => console.log(text),
  (error: unknown) => {
    console.error(`npm run maintain failed: ${describeError(error)}`);
    process.exitCode = 1;
  },
);
