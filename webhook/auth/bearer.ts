// Bearer-token auth for a scope: callers without a valid token get 401, and past a per-address limit 429,
// so tokens cannot be guessed at speed. Callers with a valid token are never limited.
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";

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

export async function bearerAuth(scope: FastifyInstance, options: BearerAuthOptions): Promise<void> {
  await scope.register(rateLimit, { global: false });
  const limitUnauthenticated = scope.rateLimit({
    max: options.unauthenticatedPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: "Too Many Requests",
      message: `too many requests without a valid token from this address; retry in ${context.after}`,
    }),
  });
  scope.addHook("onRequest", async (request, reply) => {
    if (options.authorized(request)) return;
    // The limiter throws its 429 answer (a plain object) once the address is over the limit.
    const limited = await limitUnauthenticated.call(scope, request, reply).then(() => null, (answer: { statusCode: number }) => answer);
    if (limited) return reply.code(limited.statusCode).send(limited);
    reply.header("www-authenticate", `Bearer realm="${options.realm}"`);
    return reply.code(401).send({
      statusCode: 401,
      error: "Unauthorized",
      message: request.headers.authorization ? "invalid bearer token" : "missing Authorization: Bearer <token> header",
    });
  });
}
