// The service on a fresh database over a real socket, with helpers to call /api and the ingest paths, and
// every log line it writes kept for inspection.
import type { FastifyInstance } from "fastify";
import { buildApp, type AppOptions } from "../../webhook/app";
import type { Database } from "../../webhook/db/database";
import { type DatabaseFactory, migratedDatabase } from "./databases";
import { API_TOKEN, TOKEN } from "./messages";

export { API_TOKEN };

export interface ApiApp {
  base: string;
  /** The service itself (app.keepalive.reconcile() runs a reconciler pass). */
  app: FastifyInstance;
  db: Database;
  /** Every log line, as written. */
  logs: string[];
  /** An /api call with the api token (or `token`); the answer's status and JSON body. */
  api(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; text: string }>;
  /** A webhook call (/ttn, /chirpstack?event=…) with the webhook token. */
  ingest(path: string, body: unknown, headers?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startApiApp(factory: DatabaseFactory, options: Partial<AppOptions> = {}): Promise<ApiApp> {
  const test = await migratedDatabase(factory);
  const logs: string[] = [];
  const app = await buildApp({
    db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 10_000,
    logger: { level: "debug", stream: { write: (line: string) => void logs.push(line) } },
    ...options,
  });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    base,
    app,
    db: test.db,
    logs,
    async api(method, path, body, token = API_TOKEN) {
      const answer = await fetch(`${base}/api${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await answer.text();
      return { status: answer.status, body: text ? JSON.parse(text) : undefined, text };
    },
    async ingest(path, body, headers = {}) {
      const answer = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      await answer.arrayBuffer();
      return answer.status;
    },
    async close() {
      await app.close();
      await test.drop();
    },
  };
}
