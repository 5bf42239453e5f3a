// npm run quarantine: what the service accepted but could not store (README "Quarantine"), and storing
// it again after a fix. On the embedded database, stop the service first (it holds DATA_DIR's lock);
// on PostgreSQL it may run beside the service.
import { join } from "node:path";
import { loadConfig } from "./config";
import { lockDataDir } from "./db/data-dir-lock";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";
import { describeError } from "./errors";
import { listQuarantine, readSetAside, setAsidePath } from "./store/quarantine";
import { retryQuarantine } from "./store/reingest";

const USAGE = `npm run quarantine                 list the quarantined records, oldest first
npm run quarantine -- show <id>    print one record as the service handed it to the database (JSON)
npm run quarantine -- retry [id…]  store them again (all, or the ones named); what fails again stays, with its reason`;

async function run(args: string[]): Promise<string> {
  const [command = "list", ...rest] = args;
  if (command === "--help" || command === "help") return USAGE;
  if (!["list", "show", "retry"].includes(command)) throw new Error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  if (rest.some((id) => !/^[0-9]+$/.test(id))) throw new Error(`ids are whole numbers (the first column of the list); got ${rest.join(" ")}`);
  if (command === "show" && rest.length !== 1) throw new Error("show takes one id");
  const config = loadConfig(process.env);
  const file = setAsidePath(join(config.dataDir, "spool"));
  const lock = config.databaseUrl ? undefined : lockDataDir(config.dataDir, "npm run quarantine");
  const { db, description } = await openDatabase(config).catch((error: unknown) => {
    lock?.release();
    throw error;
  });
  try {
    await migrate(db);
    if (command === "show") {
      const { rows } = await db.query<{ record: string }>("SELECT record FROM quarantine WHERE id = $1", [rest[0]]);
      if (rows.length === 0) throw new Error(`no quarantined record ${rest[0]} in ${description}`);
      return JSON.stringify(JSON.parse(rows[0].record), null, 2);
    }
    if (command === "retry") {
      const r = await retryQuarantine(db, { ids: rest.length > 0 ? rest : undefined, setAsideFile: rest.length > 0 ? undefined : file });
      return [
        `${description}: ${r.stored} stored, ${r.duplicates} already stored, ${r.kept.length} still quarantined` +
          (r.fromFile > 0 ? ` (${r.fromFile} taken from ${file})` : ""),
        ...r.kept.map((k) => `  ${k.id}  ${k.reason}`),
      ].join("\n");
    }
    const rows = await listQuarantine(db);
    const aside = (await readSetAside(file)).length;
    return [
      `${description}: ${rows.length} quarantined${aside > 0 ? `, ${aside} more set aside in ${file}` : ""}`,
      ...rows.map((r) => `  ${r.id}  ${r.quarantined_at.toISOString()}  ${r.network} ${r.dev_eui ?? `${r.application ?? "?"}/${r.device_name ?? "?"}`}  ` +
        `${r.kind} at ${r.time}  (${r.attempts}×)  ${r.reason}`),
    ].join("\n");
  } finally {
    await db.close().catch(() => {});
    lock?.release();
  }
}

await run(process.argv.slice(2)).then(
  (text) => console.log(text),
  (error: unknown) => {
    console.error(`npm run quarantine failed: ${describeError(error)}`);
    process.exitCode = 1;
  },
);
