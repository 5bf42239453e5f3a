// npm run migrate: apply the migrations to the configured database and exit.
import { loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";

const { db, description } = await openDatabase(loadConfig(process.env));
try {
  const applied = await migrate(db);
  console.log(applied.length > 0 ? `${description}: applied ${applied.join(", ")}` : `${description}: up to date`);
} finally {
  await db.close();
}
