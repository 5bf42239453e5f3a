// Bearer-token auth for a scope: callers without a valid token get 401, and past a per-address limit 429,
// so tokens cannot be guessed at speed. Callers with a valid token are never limited.
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface BearerAuthOptions {
  /** Whether the request carries valid credentials. */
  authorized: (request: FastifyRequest) => boolean;
  /** Requests per minute and address allowed without valid credentials. */
  unauthenticatedPerMinute: number;
  realm: string;
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return request.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/** A 429 answer, or null while the address is within `perMinute` failed attempts. */
export type FailureLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<{ statusCode: number } | null>;

/** Counts the calls it is given per address (call it for failed attempts only); for `scope`. */
export async function failureLimiter(scope: FastifyInstance, perMinute: number): Promise<FailureLimiter> {
  await scope.register(rateLimit, { global: false });
  const limit = scope.rateLimit({
    max: perMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: "Too Many Requests",
      message: `too many requests without a valid token from this address; retry in ${context.after}`,
    }),
  });
  // The limiter throws its 429 answer (a plain object) once the address is over the limit.
  return (request, reply) => limit.call(scope, request, reply).then(() => null, (answer: { statusCode: number }) => answer);
}

export async function bearerAuth(scope: FastifyInstance, options: BearerAuthOptions): Promise<void> {
  const limited = await failureLimiter(scope, options.unauthenticatedPerMinute);
  scope.addHook("onRequest", async (request, reply) => {
    if (options.authorized(request)) return;
    const tooMany = await limited(request, reply);
    if (tooMany) return reply.code(tooMany.statusCode).send(tooMany);
    reply.header("www-authenticate", `Bearer realm="${options.realm}"`);
    return reply.code(401).send({
      statusCode: 401,
      error: "Unauthorized",
      message: request.headers.authorization ? "invalid bearer token" : "missing Authorization: Bearer <token> header",
    });
  });
}
