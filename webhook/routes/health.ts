import type { FastifyPluginAsync } from "fastify";
import type { Database } from "../db/database";
import type { Metrics } from "../metrics";
import type { SpoolDepth } from "../store/spool";

interface HealthOptions {
  db: Database;
  metrics: Metrics;
  spoolDepth: () => SpoolDepth;
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { db, metrics, spoolDepth }) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    try {
      await db.query("SELECT 1");
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
