// npm start: open the database, apply migrations, listen, and say what to configure where.
import { join } from "node:path";
import closeWithGrace from "close-with-grace";
import { buildApp } from "./app";
import { type Config, loadConfig } from "./config";
import { migrateWhenReachable } from "./db/migrate";
import { lockDataDir } from "./db/data-dir-lock";
import { openDatabase } from "./db/open";
import { scheduleMaintenance } from "./db/partitions";
import { firstUplinkCurl } from "./first-uplink";
import { checkPort } from "./check-port";
import { Spool } from "./store/spool";
import { resolveTokens, type Tokens } from "./tokens";

const POLICY_TEXT: Record<Config["airtimePolicy"], string> = {
  "duty-cycle": "periods below the plug's 1 % duty-cycle minimum are refused",
  "ttn-fair-use": "periods below the duty-cycle minimum or over TTN's 30 s of airtime a day are refused",
  none: "no period is refused; answers still warn",
};

function instructions(config: Config, tokens: Tokens, apiTokens: Tokens, database: string): string {
  const anyAddress = config.host === "0.0.0.0" || config.host === "::";
  const base = `http://${anyAddress ? "<this-host>" : config.host}:${config.port}`;
  // Posted from this machine: a token that is not ours to print stays a placeholder.
  const local = `http://${anyAddress ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  const tryIt = firstUplinkCurl(local, tokens.generatedFile ? tokens.tokens[0] : "<one of WEBHOOK_TOKENS>");
  const header = tokens.generatedFile
    ? `Authorization: Bearer ${tokens.tokens[0]}   (generated, kept in ${tokens.generatedFile}; set WEBHOOK_TOKENS to choose your own)`
    : `Authorization: Bearer <one of WEBHOOK_TOKENS>`;
  const api = apiTokens.generatedFile
    ? `Authorization: Bearer ${apiTokens.tokens[0]}   (generated, kept in ${apiTokens.generatedFile}; set API_TOKENS to choose your own)`
    : `Authorization: Bearer <one of API_TOKENS>`;
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

  Management API:    ${base}/api/...
    Header             ${api}

  Console:           ${base}/   (sign in with the api token)

  Try it: post a plug's uplink as TTS would, then see the plug in the console:
    ${tryIt}

  Downlinks:
    The Things Stack   ${config.downlinks.tts
      ? `through ${config.downlinks.tts.apiUrl}, webhook ${config.downlinks.tts.webhookId} (TTS_API_URL, TTS_API_KEY, TTS_WEBHOOK_ID)`
      : "through the X-Downlink-Push / X-Downlink-Apikey headers of the webhook's calls: set a downlink API key on the webhook, or TTS_API_URL, TTS_API_KEY and TTS_WEBHOOK_ID"}
    ChirpStack         ${config.downlinks.chirpstack
      ? `through its gRPC API at ${config.downlinks.chirpstack.apiUrl} (CHIRPSTACK_API_URL, CHIRPSTACK_API_TOKEN)`
      : "not configured: set CHIRPSTACK_API_URL (host:port of its gRPC API) and CHIRPSTACK_API_TOKEN (an API key)"}
    Keep-alive periods AIRTIME_POLICY=${config.airtimePolicy}: ${POLICY_TEXT[config.airtimePolicy]} (without "force": true)
    New plugs          ${config.keepaliveTarget === null
      ? "keep their own period (KEEPALIVE_TARGET_MINUTES unset)"
      : `adaptive, target ${config.keepaliveTarget} min (KEEPALIVE_TARGET_MINUTES): lengthened to what AIRTIME_POLICY allows at each plug's radio`}

  Health: ${base}/healthz  ${base}/readyz  ${base}/metrics
`;
}

/** How long a stop may take before the process exits anyway: within the 10 s `docker stop` allows. */
const STOP_DEADLINE_MS = 8000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // Tried before anything is written (the lock, a new database, generated tokens): a busy port is told at once.
  await checkPort(config.port, config.host);
  const lock = lockDataDir(config.dataDir, "the webhook service");
  // Closed in reverse order of opening on SIGTERM/SIGINT; whatever is still busy after the deadline
  // is abandoned: accepted records are in the database or fsync'ed in the spool by then.
  const closers: (() => Promise<void>)[] = [async () => lock.release()];
  let log: Pick<Console, "info" | "error"> = console;
  closeWithGrace({ delay: STOP_DEADLINE_MS, logger: { error: (message: unknown) => log.error(message) } }, async ({ signal, err }) => {
    if (err) log.error(err);
    else log.info(`${signal ?? "exit"}: no new requests; committing what was accepted`);
    for (const close of closers.reverse()) await close();
  });

  const { db, description } = await openDatabase(config);
  /**
   * Waits for `closing` at most `ms`. A database that does not answer (a dead link) holds its queries
   * until their timeout; whoever waits on one is left behind rather than awaited.
   */
  const atMost = (ms: number, what: string, closing: Promise<void>) => Promise.race([closing, new Promise<void>((resolve) => {
    setTimeout(() => {
      log.info(`${what} did not close within ${ms / 1000} s; leaving it behind`);
      resolve();
    }, ms).unref();
  })]);
  closers.push(() => atMost(1500, "the database", db.close()));
  const { applied } = await migrateWhenReachable(db, (error) =>
    console.warn(`database unreachable (${error.message}); accepting uplinks into the spool until it answers`));
  const tokens = await resolveTokens(config.tokens, config.dataDir, "webhook-token");
  const apiTokens = await resolveTokens(config.apiTokens, config.dataDir, "api-token");
  const spool = await Spool.open(join(config.dataDir, "spool"), config.spoolMaxBytes);
  closers.push(() => spool.close());
  const app = await buildApp({
    db, tokens: tokens.tokens, apiTokens: apiTokens.tokens, bodyLimit: config.bodyLimit, headersTimeoutMs: config.headersTimeoutMs, bodyTimeoutMs: config.bodyTimeoutMs, maxConnections: config.maxConnections, batchMax: config.batchMax, writeConcurrency: config.writeConcurrency, spool,
    trustProxy: config.trustProxy,
    writeTimeoutMs: config.writeTimeoutMs, databaseReady: applied.then(() => {}),
    unauthenticatedPerMinute: config.unauthenticatedPerMinute,
    logger: { level: config.logLevel },
    downlinks: config.downlinks,
    airtimePolicy: config.airtimePolicy,
    keepalive: { fleetTarget: config.keepaliveTarget },
  });
  log = { info: (message: string) => app.log.info(message), error: (message: unknown) => app.log.error(message) };
  // Fastify waits for requests in flight, then the writer commits or spools what they brought (each
  // write is bounded by WRITE_TIMEOUT_MS); background work still waiting on the database is left behind.
  closers.push(() => atMost(4000, "the service", app.close()));
  applied.then((migrations) => {
    if (migrations.length > 0) app.log.info({ migrations }, "migrations applied");
    // Partitions made ahead and expired ones dropped (contract §6), at start-up and every hour.
    const stopMaintenance = scheduleMaintenance(db, config.retention, app.log);
    closers.push(() => atMost(1000, "partition maintenance", stopMaintenance()));
  }, (error: Error) => {
    app.log.fatal({ err: error }, "migrations failed");
    process.exit(1);
  });
  const { records } = spool.depth();
  if (records > 0) app.log.info({ records }, "replaying the spool left by the last run");

  await app.listen({ port: config.port, host: config.host });
  console.log(instructions(config, tokens, apiTokens, description));
}

main().catch((error: unknown) => {
  console.error(`16ASPM webhook failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
