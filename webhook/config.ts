// Configuration from the environment (contract §2), checked once at start-up.
import { resolve } from "node:path";
import type { ChirpStackSettings } from "./downlinks/chirpstack";
import type { Retention } from "./db/partitions";
import type { TtsSettings } from "./downlinks/tts";
import { AIRTIME_POLICIES, type AirtimePolicy } from "./keepalive/policy";

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL URL; undefined → PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Configured webhook (ingest) tokens; undefined → one is generated and kept in dataDir. */
  tokens: string[] | undefined;
  /** Configured api tokens (/api, the console); undefined → one is generated and kept in dataDir. */
  apiTokens: string[] | undefined;
  bodyLimit: number;
  /** How long a request's headers may take to arrive. */
  headersTimeoutMs: number;
  /** How long a whole request, headers and body, may take to arrive. */
  bodyTimeoutMs: number;
  /** Connections held at once; more are closed as they come. */
  maxConnections: number;
  batchMax: number;
  /** Transactions in flight at once. */
  writeConcurrency: number;
  /** Fastify's trustProxy: which proxies' X-Forwarded-* headers name the caller and the protocol. */
  trustProxy: boolean | string;
  poolSize: number;
  /** Most bytes the spool may hold while the database is unavailable. */
  spoolMaxBytes: number;
  /** How long a batch may take in the database before it is spooled instead. */
  writeTimeoutMs: number;
  /** Requests per minute and address allowed without a valid token. */
  unauthenticatedPerMinute: number;
  logLevel: string;
  /** Downlink routes; without tts, TTS downlinks use the X-Downlink-* headers of its webhook calls. */
  downlinks: { tts?: TtsSettings; chirpstack?: ChirpStackSettings };
  /** Which keep-alive periods the API refuses without `force` (contract §4). */
  airtimePolicy: AirtimePolicy;
  /** KEEPALIVE_TARGET_MINUTES: the adaptive target of plugs heard with nothing desired; null: none. */
  keepaliveTarget: number | null;
  /** Days each time series is kept; 0 keeps it (contract §6). */
  retention: Retention;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${JSON.stringify(text)}: expected an integer ${min}..${max}`);
  }
  return value;
}

function tokenList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === "") return undefined;
  const tokens = text.split(",").map((t) => t.trim()).filter((t) => t !== "");
  // A token with a space in it cannot be sent as `Authorization: Bearer <token>`: it never matches.
  const spaced = tokens.findIndex((t) => /\s/.test(t));
  if (spaced >= 0) throw new Error(`${name}: token ${spaced + 1} contains whitespace, which an Authorization header cannot carry; separate tokens with commas`);
  const short = tokens.findIndex((t) => t.length < 16);
  if (short >= 0) throw new Error(`${name}: token ${short + 1} is shorter than 16 characters; use long random tokens`);
  return tokens;
}

/** The variables of one group, all set or none; a partial group is refused by name. */
function group<K extends string>(env: NodeJS.ProcessEnv, names: K[], purpose: string): Record<K, string> | undefined {
  const set = names.filter((n) => env[n]?.trim());
  if (set.length === 0) return undefined;
  const missing = names.filter((n) => !set.includes(n));
  if (missing.length > 0) throw new Error(`${set.join(", ")} set without ${missing.join(", ")}: ${purpose} needs all of ${names.join(", ")}`);
  return Object.fromEntries(names.map((n) => [n, env[n]!.trim()])) as Record<K, string>;
}

function ttsSettings(env: NodeJS.ProcessEnv): TtsSettings | undefined {
  const tts = group(env, ["TTS_API_URL", "TTS_API_KEY", "TTS_WEBHOOK_ID"], "sending downlinks through The Things Stack");
  if (!tts) return undefined;
  if (!/^https?:\/\/[^/]+/.test(tts.TTS_API_URL)) {
    throw new Error(`TTS_API_URL=${JSON.stringify(tts.TTS_API_URL)}: expected the server's URL, e.g. https://eu1.cloud.thethings.network`);
  }
  // The server's address, whether given with its /api/v3 path or not.
  const apiUrl = tts.TTS_API_URL.replace(/\/+$/, "").replace(/\/api\/v3$/, "");
  return { apiUrl, apiKey: tts.TTS_API_KEY, webhookId: tts.TTS_WEBHOOK_ID };
}

function chirpstackSettings(env: NodeJS.ProcessEnv): ChirpStackSettings | undefined {
  const cs = group(env, ["CHIRPSTACK_API_URL", "CHIRPSTACK_API_TOKEN"], "sending downlinks through ChirpStack");
  if (!cs) return undefined;
  if (!/^((https?):\/\/)?[^/:]+:\d+\/?$/.test(cs.CHIRPSTACK_API_URL)) {
    throw new Error(`CHIRPSTACK_API_URL=${JSON.stringify(cs.CHIRPSTACK_API_URL)}: expected its gRPC API as host:port, or https://host:port for TLS`);
  }
  return { apiUrl: cs.CHIRPSTACK_API_URL, apiToken: cs.CHIRPSTACK_API_TOKEN };
}

/** TRUST_PROXY: unset or false (none), true (any), or the proxies' addresses/CIDRs, comma-separated. */
function trustProxy(env: NodeJS.ProcessEnv): boolean | string {
  const text = env.TRUST_PROXY?.trim() ?? "";
  if (text === "" || text === "false") return false;
  if (text === "true") return true;
  if (!/^[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*$/.test(text)) {
    throw new Error(`TRUST_PROXY=${JSON.stringify(text)}: expected true, false, or the proxies' addresses (e.g. 127.0.0.1,10.0.0.0/8)`);
  }
  return text;
}

function airtimePolicy(env: NodeJS.ProcessEnv): AirtimePolicy {
  const text = env.AIRTIME_POLICY || "duty-cycle";
  if (!(AIRTIME_POLICIES as readonly string[]).includes(text)) {
    throw new Error(`AIRTIME_POLICY=${JSON.stringify(text)}: expected one of ${AIRTIME_POLICIES.join(", ")}`);
  }
  return text as AirtimePolicy;
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const tokens = tokenList(env, "WEBHOOK_TOKENS");
  const apiTokens = tokenList(env, "API_TOKENS");
  const shared = tokens?.find((t) => apiTokens?.includes(t));
  if (shared !== undefined) throw new Error("API_TOKENS and WEBHOOK_TOKENS share a token: a network server's credentials must not be able to switch plugs");
  const headersTimeoutMs = integer(env, "HEADERS_TIMEOUT_MS", 10_000, 100, 600_000);
  const bodyTimeoutMs = integer(env, "BODY_TIMEOUT_MS", 30_000, 100, 600_000);
  if (headersTimeoutMs > bodyTimeoutMs) throw new Error(`HEADERS_TIMEOUT_MS=${headersTimeoutMs} is longer than BODY_TIMEOUT_MS=${bodyTimeoutMs}, which bounds the whole request, headers included`);
  return {
    port: integer(env, "PORT", 8080, 0, 65535),
    host: env.HOST || "0.0.0.0",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.DATA_DIR || "./data"),
    tokens,
    apiTokens,
    bodyLimit: integer(env, "BODY_LIMIT_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024),
    headersTimeoutMs,
    bodyTimeoutMs,
    maxConnections: integer(env, "MAX_CONNECTIONS", 10_000, 16, 1_000_000),
    batchMax: integer(env, "BATCH_MAX", 500, 1, 10000),
    trustProxy: trustProxy(env),
    writeConcurrency: integer(env, "WRITE_CONCURRENCY", 1, 1, 64),
    poolSize: integer(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
    spoolMaxBytes: integer(env, "SPOOL_MAX_BYTES", 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    writeTimeoutMs: integer(env, "WRITE_TIMEOUT_MS", 3000, 100, 60_000),
    unauthenticatedPerMinute: integer(env, "RATE_LIMIT_UNAUTHENTICATED", 60, 1, 1_000_000),
    logLevel: env.LOG_LEVEL || "info",
    downlinks: { tts: ttsSettings(env), chirpstack: chirpstackSettings(env) },
    airtimePolicy: airtimePolicy(env),
    keepaliveTarget: env.KEEPALIVE_TARGET_MINUTES ? integer(env, "KEEPALIVE_TARGET_MINUTES", 10, 1, 255) : null,
    retention: {
      uplinksDays: integer(env, "RETENTION_UPLINKS_DAYS", 90, 0, 100_000),
      readingsDays: integer(env, "RETENTION_READINGS_DAYS", 0, 0, 100_000),
      eventsDays: integer(env, "RETENTION_EVENTS_DAYS", 0, 0, 100_000),
    },
  };
}
