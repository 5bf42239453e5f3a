// The Fastify app: ingest routes and the management API, each behind its own tokens; the console (sessions
// signed in with an api token); health and metrics; one batching writer.
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { bearerAuth, bearerToken, failureBudget } from "./auth/bearer";
import type { Database } from "./db/database";
import { type ChirpStackSettings, ChirpStackRoute } from "./downlinks/chirpstack";
import type { RetryPolicy } from "./downlinks/sender";
import { createDownlinkService, type DownlinkService } from "./downlinks/service";
import { type TtsSettings, TtsRoute } from "./downlinks/tts";
import type { AirtimePolicy } from "./keepalive/policy";
import { createKeepaliveService, type KeepaliveOptions, type KeepaliveService } from "./keepalive/service";
import { nestingError } from "./ingest/schema-common";
import { fleetState } from "./fleet-state";
import { createMetrics, type Metrics } from "./metrics";
import { consoleRoutes } from "./console/routes";
import { securityHeaders } from "./console/security-headers";
import { registerSessions, sessionRoutes } from "./console/sessions";
import { apiRoutes } from "./routes/api";
import { chirpstackRoutes } from "./routes/chirpstack";
import { formatterRoute } from "./routes/formatter";
import type { Ingest } from "./routes/store-record";
import { healthRoutes } from "./routes/health";
import { ttnRoutes } from "./routes/ttn";
import { schemaErrorMessage } from "./schema-errors";
import { commitRecords } from "./store/accept";
import { quarantine, setAside, setAsidePath } from "./store/quarantine";
import type { Spool } from "./store/spool";
import { BatchWriter } from "./store/writer";
import { timeLimit } from "./time-limit";
import { tokenMatcher } from "./tokens";

export interface AppOptions {
  db: Database;
  /** Webhook (ingest) tokens: /ttn and /chirpstack only. */
  tokens: string[];
  /** Which proxies' X-Forwarded-* headers to believe (Fastify's trustProxy); none by default. */
  trustProxy?: FastifyServerOptions["trustProxy"];
  /** Api tokens: /api only; none → every /api call is refused. */
  apiTokens?: string[];
  bodyLimit?: number;
  /** How long a request's headers may take to arrive; then 408 and the connection closed. 10 s by default. */
  headersTimeoutMs?: number;
  /** How long a whole request (headers and body) may take to arrive; then 408 and the connection closed. 30 s by default. */
  bodyTimeoutMs?: number;
  /** Connections held at once; more are closed as they come, so file descriptors remain for the database and the spool. */
  maxConnections?: number;
  batchMax?: number;
  /**
   * Transactions in flight at once; 1 by default. One writer makes the largest batches, and the cost of a
   * batch is mostly per batch, not per record: on PostgreSQL, 1 answered more uplinks a second than 2 or 4
   * (bench:ingest, issue 13). PGlite runs one transaction at a time anyway.
   */
  writeConcurrency?: number;
  /** Where accepted records wait while the database is unavailable; without it they are refused (503). */
  spool?: Spool;
  /** How long a batch may take before it is spooled instead. */
  writeTimeoutMs?: number;
  /** Resolves once the database is migrated; until then records are spooled. */
  databaseReady?: Promise<void>;
  /** Requests per minute and address allowed without a valid token (guessing tokens, scanners). */
  unauthenticatedPerMinute?: number;
  logger?: FastifyServerOptions["logger"];
  /** Downlink routes (contract §4); without `tts`, TTS downlinks use the headers its webhook calls carry. */
  downlinks?: { tts?: TtsSettings; chirpstack?: ChirpStackSettings; retry?: RetryPolicy };
  /** Keep-alive periods the API refuses without `force`; default duty-cycle. */
  airtimePolicy?: AirtimePolicy;
  /** The keep-alive reconciler's retries, pace and clock; the fleet's adaptive target (KEEPALIVE_TARGET_MINUTES). */
  keepalive?: Pick<KeepaliveOptions, "retry" | "intervalMs" | "now" | "fleetTarget">;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Keep-alive management: what PUT …/keepalive calls, and the reconciler. */
    keepalive: KeepaliveService;
  }
}

function createWriter(options: AppOptions, metrics: Metrics, log: FastifyBaseLogger, downlinks: DownlinkService, keepalive: KeepaliveService): BatchWriter {
  const { db } = options;
  return new BatchWriter(
    async (records) => {
      // Downlink events move their downlinks in the transaction that stores them, spooled and replayed alike.
      const { moved, ...result } = await commitRecords(db, records);
      metrics.decodeErrors.inc(result.decodeErrors);
      for (const kind of result.eventKinds) metrics.countEvent(kind);
      result.written.forEach((w, i) => {
        if (w.outcome === "quarantined") metrics.quarantined.inc({ network: records[i].network, cause: "unknown_device", kept_in: "table" });
      });
      downlinks.announce(moved);
      // Adaptive plugs are judged again at their new uplinks' radio.
      if (records.some((r) => r.type === "uplink")) keepalive.heard();
      return result.written;
    },
    {
      maxBatch: options.batchMax ?? 500,
      concurrency: options.writeConcurrency ?? 1,
      spool: options.spool,
      timeoutMs: options.writeTimeoutMs ?? 3000,
      ready: options.databaseReady,
      onBatch: (size, seconds) => {
        metrics.batchSize.observe(size);
        metrics.databaseSeconds.observe(seconds);
      },
      onError: (error, size) => {
        metrics.databaseErrors.inc();
        log.warn({ err: error, records: size }, "the database did not take a batch");
      },
      onSpooled: (size) => metrics.spooled.inc(size),
      onReplayed: (size) => metrics.replayed.inc(size),
      quarantine: (record, reason, sqlstate) => db.transaction((tx) => quarantine(tx, [{ record, reason, sqlstate }])),
      setAside: options.spool && ((record, reason) => setAside(setAsidePath(options.spool!.dir), record, reason)),
      onQuarantined: (record, reason, keptIn) => {
        metrics.quarantined.inc({ network: record.network, cause: "data_error", kept_in: keptIn });
        log.error({ reason, keptIn, devEui: record.devEui, dedupKey: record.dedupKey }, "the database refused a record; it is quarantined");
      },
      onUnreadable: (line) => log.error(line, "a spooled line could not be read (never acknowledged whole): skipped, and kept in spool/unreadable.jsonl unless kept is false"),
    },
  );
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request: a request that did not arrive
 * within the time limits (408), headers too large (431), bytes that are not HTTP (400); then closes.
 */
function clientErrorHandler(headersTimeoutMs: number, bodyTimeoutMs: number) {
  return (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const [status, message] = error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, `the request did not arrive in time: its headers must arrive within ${headersTimeoutMs} ms (HEADERS_TIMEOUT_MS), all of it within ${bodyTimeoutMs} ms (BODY_TIMEOUT_MS)`]
      : error.code === "HPE_HEADER_OVERFLOW" ? [431, "the request's headers are larger than 16 KiB"] : [400, `the request is not valid HTTP/1.1 (${error.code ?? error.message})`];
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}

/** Whether a path is a network server's (/ttn, /chirpstack), whose bodies may be protobuf. */
const ingestPath = (url: string) => /^\/(ttn|chirpstack)(\?|\/|$)/.test(url);

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  const app = Fastify({
    // No client holds a connection for long: headers and the whole request arrive within their limits, or
    // 408. Node looks for late requests every connectionsCheckingInterval (30 s by default, which alone would
    // let a slow body stay twice the limit): a quarter of the shorter limit, at most a second.
    requestTimeout: bodyTimeoutMs,
    http: { headersTimeout: headersTimeoutMs, requestTimeout: bodyTimeoutMs, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, bodyTimeoutMs) / 4))) },
    clientErrorHandler: clientErrorHandler(headersTimeoutMs, bodyTimeoutMs),
    // Fastify's request logs leave headers out; should anyone log them, the token is still not written.
    logger: typeof options.logger === "object" ? { ...options.logger, redact: ["req.headers.authorization", 'req.headers["x-downlink-apikey"]'] } : options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // "incoming request" and "request completed" would be two lines per uplink: onResponse writes one.
    logController: new LogController({ disableRequestLogging: true }),
    // Behind a TLS proxy (Caddy): the caller's address for the rate limits, https for the session cookie.
    trustProxy: options.trustProxy ?? false,
    // Every schema violation, named by where it is: "body/end_device_ids/dev_eui must match pattern …".
    schemaErrorFormatter: schemaErrorMessage,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.maxConnections = options.maxConnections ?? 10_000;

  /** Why a request was refused (4xx), for its one log line. */
  const refusals = new WeakMap<object, string>();
  // Network servers send JSON or protobuf; text/plain is refused with 415 rather than parsed.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const type = request.headers["content-type"];
      return reply.code(415).send({
        statusCode: 415,
        error: "Unsupported Media Type",
        message: `${type ? `Content-Type ${JSON.stringify(type)}` : "a body without Content-Type"} is not accepted: send ${ingestPath(request.url) ? "application/json, or application/octet-stream for ChirpStack protobuf" : "application/json"}`,
      });
    }
    // Answered here rather than by reply.send(error), which would log each 4xx again with its stack.
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) request.log.error({ err: error }, "request failed");
    else refusals.set(request, error.message);
    return reply.code(statusCode).send({
      statusCode, ...(error.code ? { code: error.code } : {}), error: STATUS_CODES[statusCode] ?? "Error", message: error.message,
    });
  });

  // Every body's nesting is bounded before the schema check and all else that walks a body recursively
  // (dropNulls, the enum names, the dedup hash, jsonb).
  app.addHook("preValidation", async (request, reply) => {
    const tooDeep = nestingError(request.body);
    if (tooDeep) return reply.code(400).send({ statusCode: 400, error: "Bad Request", message: tooDeep });
  });

  const spoolDepth = () => options.spool?.depth() ?? { records: 0, bytes: 0 };
  // A database that does not answer must not hold a scrape past Prometheus's timeout: the spool's figures matter then.
  const metrics = createMetrics(spoolDepth, () => timeLimit(fleetState(options.db), 2000, "the fleet's state took over 2 s"));
  const tts = new TtsRoute(options.downlinks?.tts);
  const chirpstack = options.downlinks?.chirpstack && new ChirpStackRoute(options.downlinks.chirpstack);
  const downlinks = createDownlinkService({
    db: options.db, routes: { ttn: tts, chirpstack }, log: app.log, retry: options.downlinks?.retry, ready: options.databaseReady,
    onPush: (network, outcome) => metrics.downlinkPushes.inc({ network, outcome }),
  });
  const keepalive = createKeepaliveService({
    db: options.db, downlinks, policy: options.airtimePolicy ?? "duty-cycle", log: app.log, ready: options.databaseReady, ...options.keepalive,
  });
  app.decorate("keepalive", keepalive);
  const writer = createWriter(options, metrics, app.log, downlinks, keepalive);
  const ingest: Ingest = { write: (record) => writer.write(record), metrics };
  // Fastify waits for in-flight requests before onClose, so this commits (or spools) all that was accepted.
  app.addHook("onClose", async () => {
    await writer.flush();
    await writer.close();
    await keepalive.close();
    await downlinks.close();
  });
  // One line per request at info (Fastify's own two are off): a refusal's reason in it, never a stack.
  app.addHook("onResponse", async (request, reply) => {
    metrics.requests.inc({ route: request.routeOptions.url ?? "unknown", status: reply.statusCode });
    const refused = refusals.get(request);
    request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ...(refused ? { refused } : {}) }, "request");
  });

  await app.register(healthRoutes, { db: options.db, metrics, spoolDepth });
  await app.register(formatterRoute);
  // One budget of failed attempts per address, whichever door they knock on (/ttn, /chirpstack, /api, /session).
  const limited = await failureBudget(app, options.unauthenticatedPerMinute ?? 60);
  // Webhook tokens only on the ingest paths, api tokens only under /api: a network server's credentials
  // must not be able to switch plugs (contract §4).
  const ingestToken = tokenMatcher(options.tokens);
  await app.register(async (ingestScope) => {
    await bearerAuth(ingestScope, {
      authorized: (request) => { const token = bearerToken(request); return token !== undefined && ingestToken(token); },
      limited, realm: "16aspm-webhook",
    });
    await ingestScope.register(ttnRoutes, { ingest, downlinkHeaders: (application, push, apiKey) => tts.learn(application, push, apiKey) });
    await ingestScope.register(chirpstackRoutes, { ingest });
  });
  // The API and the console share sessions and the security headers. The ingest paths have neither: a
  // network server sends no cookies, and those hooks cost about a tenth of an uplink's CPU (bench:ingest).
  await app.register(async (browserScope) => {
    await securityHeaders(browserScope);
    await registerSessions(browserScope);
    await browserScope.register(apiRoutes, { prefix: "/api", db: options.db, apiTokens: options.apiTokens ?? [], limited, downlinks, keepalive });
    // The console signs in with an api token; its pages then call /api with the session.
    await browserScope.register(sessionRoutes, { apiTokens: options.apiTokens ?? [], limited });
    await browserScope.register(consoleRoutes);
  });
  return app;
}
