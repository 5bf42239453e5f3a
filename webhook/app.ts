// The Fastify app: ingest routes behind bearer-token auth, health and metrics, one batching writer.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { Database } from "./db/database";
import type { IngestRecord } from "./ingest/records";
import { createMetrics, type Metrics } from "./metrics";
import { chirpstackRoutes } from "./routes/chirpstack";
import { healthRoutes } from "./routes/health";
import { ttnRoutes } from "./routes/ttn";
import { writeBatch } from "./store/batch";
import { BatchWriter } from "./store/writer";
import { tokenMatcher } from "./tokens";

export interface AppOptions {
  db: Database;
  tokens: string[];
  bodyLimit?: number;
  batchMax?: number;
  logger?: FastifyServerOptions["logger"];
}

export interface Ingest {
  /** Stores a record; resolves after its commit. */
  write(record: IngestRecord): ReturnType<BatchWriter["write"]>;
  metrics: Metrics;
}

function createIngest(db: Database, metrics: Metrics, batchMax: number): { ingest: Ingest; writer: BatchWriter } {
  const writer = new BatchWriter(
    async (records) => {
      const result = await db.transaction((tx) => writeBatch(tx, records));
      metrics.decodeErrors.inc(result.decodeErrors);
      return result.outcomes;
    },
    {
      maxBatch: batchMax,
      onBatch: (size, seconds) => {
        metrics.batchSize.observe(size);
        metrics.databaseSeconds.observe(seconds);
      },
      onError: () => metrics.databaseErrors.inc(),
    },
  );
  return { ingest: { write: (record) => writer.write(record), metrics }, writer };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // Every schema violation, named by where it is: "body/end_device_ids/dev_eui must match pattern …".
    schemaErrorFormatter: (errors, dataVar) =>
      new Error(errors.map((e) => {
        const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
        return `${dataVar}${e.instancePath} ${e.message}${allowed ? ` (${allowed.join(", ")})` : ""}`;
      }).join("; ")),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Network servers send JSON or protobuf; text/plain is refused with 415 rather than parsed.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const type = request.headers["content-type"];
      return reply.code(415).send({
        statusCode: 415,
        error: "Unsupported Media Type",
        message: `${type ? `Content-Type ${JSON.stringify(type)}` : "a body without Content-Type"} is not accepted: send application/json, or application/octet-stream for ChirpStack protobuf`,
      });
    }
    if ((error.statusCode ?? 500) >= 500) request.log.error({ err: error }, "request failed");
    return reply.send(error);
  });

  const metrics = createMetrics();
  const { ingest, writer } = createIngest(options.db, metrics, options.batchMax ?? 500);
  // Fastify waits for in-flight requests before onClose, so this commits all that was accepted.
  app.addHook("onClose", () => writer.flush());
  app.addHook("onResponse", async (request, reply) => {
    metrics.requests.inc({ route: request.routeOptions.url ?? "unknown", status: reply.statusCode });
  });

  await app.register(healthRoutes, { db: options.db, metrics });
  const matches = tokenMatcher(options.tokens);
  await app.register(async (ingestScope) => {
    ingestScope.addHook("onRequest", async (request, reply) => {
      const header = request.headers.authorization;
      const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      if (token && matches(token)) return;
      reply.header("www-authenticate", 'Bearer realm="16aspm-webhook"');
      return reply.code(401).send({
        statusCode: 401,
        error: "Unauthorized",
        message: header ? "invalid bearer token" : "missing Authorization: Bearer <token> header",
      });
    });
    await ingestScope.register(ttnRoutes, { ingest });
    await ingestScope.register(chirpstackRoutes, { ingest });
  });
  return app;
}
