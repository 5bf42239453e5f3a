// Bearer-token auth for a scope, checked when the headers arrive (onRequest, before any body is read):
// callers without a valid token get 401, and past the per-address budget of failed attempts 429, at once
// and with the connection closed, so tokens cannot be guessed at speed and a tokenless body is never
// waited for. Callers with a valid token are never limited.
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface BearerAuthOptions {
  /** Whether the request carries valid credentials. */
  authorized: (request: FastifyRequest) => boolean;
  /** The app's one budget of failed attempts per address. */
  limited: FailureLimiter;
  realm: string;
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return request.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/** Counts a failed attempt of the request's address; past the budget, answers 429 and resolves to the reply, else to null. */
export type FailureLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | null>;

/**
 * One budget of failed attempts per address for the whole app: a wrong token on /ttn, /chirpstack or /api
 * and a failed console sign-in (/session) all count against it. Register on the root instance.
 */
export async function failureBudget(app: FastifyInstance, perMinute: number): Promise<FailureLimiter> {
  await app.register(rateLimit, { global: false });
  const limit = app.createRateLimit({ max: perMinute, timeWindow: 60_000 });
  return async (request, reply) => {
    const result = await limit(request);
    if (result.isAllowed || !result.isExceeded) return null;
    return reply.code(429).header("retry-after", result.ttlInSeconds).header("connection", "close").send({
      statusCode: 429,
      error: "Too Many Requests",
      message: `too many requests without a valid token from this address; retry in ${result.ttlInSeconds} s`,
    });
  };
}

/** Why an Authorization header (or its absence) is not a valid bearer token. */
function refusal(authorization: string | undefined): string {
  if (!authorization) return "missing Authorization: Bearer <token> header";
  const scheme = authorization.trim().match(/^(\S+)\s+\S/)?.[1];
  if (scheme === undefined) return "the Authorization header has no scheme: send Authorization: Bearer <token>";
  if (scheme.toLowerCase() !== "bearer") return `the Authorization scheme ${JSON.stringify(scheme)} is not accepted: send Authorization: Bearer <token>`;
  return "invalid bearer token";
}

/** Answers a request without valid credentials (401, or 429 past the budget) and closes its connection. */
export async function refuse(request: FastifyRequest, reply: FastifyReply, limited: FailureLimiter, realm: string): Promise<FastifyReply> {
  // The body that may follow is not read: the connection ends with this answer.
  reply.header("connection", "close");
  const tooMany = await limited(request, reply);
  if (tooMany) return tooMany;
  reply.header("www-authenticate", `Bearer realm="${realm}"`);
  return reply.code(401).send({ statusCode: 401, error: "Unauthorized", message: refusal(request.headers.authorization) });
}

export async function bearerAuth(scope: FastifyInstance, options: BearerAuthOptions): Promise<void> {
  scope.addHook("onRequest", async (request, reply) => {
    if (options.authorized(request)) return;
    return refuse(request, reply, options.limited, options.realm);
  });
}
