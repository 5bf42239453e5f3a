import type { FastifyPluginAsync } from "fastify";
import type { Database } from "../db/database";
import type { Metrics } from "../metrics";
import type { SpoolDepth } from "../store/spool";
import { timeLimit } from "../time-limit";

interface HealthOptions {
  db: Database;
  metrics: Metrics;
  spoolDepth: () => SpoolDepth;
}

/** How long /readyz waits for the database's SELECT 1 before it answers 503. */
const READY_TIMEOUT_MS = 2000;

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { db, metrics, spoolDepth }) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    try {
      // A database that does not answer (a dropped route, a hung pool) must not hang the probe as well.
      await timeLimit(db.query("SELECT 1"), READY_TIMEOUT_MS, `no answer within ${READY_TIMEOUT_MS} ms`);
      return { status: "ready", database: db.kind, spool: spoolDepth() };
    } catch (error) {
      return reply.code(503).send({
        status: "unavailable", database: db.kind, spool: spoolDepth(),
        message: `database unreachable: ${(error as Error).message}`,
      });
    }
  });

  app.get("/metrics", async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
