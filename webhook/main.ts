// npm start: open the database, apply migrations, listen, and say what to configure where.
import { buildApp } from "./app";
import { type Config, loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";
import { resolveTokens, type Tokens } from "./tokens";

function instructions(config: Config, tokens: Tokens, database: string): string {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "<this-host>" : config.host;
  const base = `http://${host}:${config.port}`;
  const header = tokens.generatedFile
    ? `Authorization: Bearer ${tokens.tokens[0]}   (generated, kept in ${tokens.generatedFile}; set WEBHOOK_TOKENS to choose your own)`
    : `Authorization: Bearer <one of WEBHOOK_TOKENS>`;
  return `
16ASPM webhook listening on ${base}  (database: ${database})

  The Things Stack:  Integrations > Webhooks > Add webhook > Custom webhook
    Base URL           ${base}
    Additional header  ${header}
    Enabled messages   Uplink message, Join accept, Downlink ack/nack/sent/failed/queued: path /ttn for each

  ChirpStack v4:     Application > Integrations > HTTP
    Payload encoding   JSON or Protobuf
    Event endpoint URL ${base}/chirpstack
    Headers            ${header}

  Health: ${base}/healthz  ${base}/readyz  ${base}/metrics
`;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const { db, description } = await openDatabase(config);
  const applied = await migrate(db);
  const tokens = await resolveTokens(config.tokens, config.dataDir);
  const app = await buildApp({ db, tokens: tokens.tokens, bodyLimit: config.bodyLimit, batchMax: config.batchMax, logger: { level: config.logLevel } });
  if (applied.length > 0) app.log.info({ migrations: applied }, "migrations applied");

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info(`${signal}: no new requests; committing what was accepted`);
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
  console.log(instructions(config, tokens, description));
}

main().catch((error: unknown) => {
  console.error(`16ASPM webhook failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
