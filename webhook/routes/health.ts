import type { FastifyPluginAsync } from "fastify";
import type { Database } from "../db/database";
import type { Metrics } from "../metrics";

export const healthRoutes: FastifyPluginAsync<{ db: Database; metrics: Metrics }> = async (app, { db, metrics }) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    try {
      await db.query("SELECT 1");
      return { status: "ready", database: db.kind };
    } catch (error) {
      return reply.code(503).send({ status: "unavailable", database: db.kind, message: `database unreachable: ${(error as Error).message}` });
    }
  });

  app.get("/metrics", async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
