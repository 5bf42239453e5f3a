// Console sessions: sign in with an api token, kept server-side; the browser holds only a random session
// id in an HttpOnly, SameSite=Strict cookie (never the token, never in a URL). The /api scope accepts a
// signed-in session like an api token, so the console's pages read and act through the same API.
import { randomBytes } from "node:crypto";
import cookie from "@fastify/cookie";
import session from "@fastify/session";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { FailureLimiter } from "../auth/bearer";
import { tokenMatcher } from "../tokens";

declare module "fastify" {
  interface Session {
    signedIn?: boolean;
  }
}

export const SESSION_COOKIE = "aspm16_session";
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 12 * 3_600_000;

/** Session support for the scope of the console and the API. */
export async function registerSessions(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
  await app.register(session, {
    cookieName: SESSION_COOKIE,
    // Sessions live in this process's memory, so a secret of its own is enough: a restart signs everyone out.
    secret: randomBytes(32).toString("base64url"),
    saveUninitialized: false,
    rolling: true,
    // Not secure: "auto", which turns SameSite into Lax over plain HTTP; Secure is set per session at sign-in.
    cookie: { httpOnly: true, sameSite: "strict", secure: false, path: "/", maxAge: SESSION_IDLE_MS },
  });
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Whether the request comes from a signed-in console. A change (POST, PUT, …) must also come from the
 * console's own origin when the browser names one: SameSite=Strict still lets a site on another port of
 * the same host send the cookie.
 */
export function signedIn(request: FastifyRequest): boolean {
  if (request.session?.signedIn !== true) return false;
  const origin = request.headers.origin;
  if (!UNSAFE.has(request.method) || origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export interface SessionRouteOptions {
  apiTokens: string[];
  /** The app's one budget of failed attempts per address: failed sign-ins count with wrong tokens elsewhere. */
  limited: FailureLimiter;
}

/** GET /session (signed in?), POST /session {token} (sign in), DELETE /session (sign out). */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRouteOptions> = async (scope, options) => {
  const apiToken = tokenMatcher(options.apiTokens);

  scope.get("/session", async (request) => ({ signedIn: signedIn(request) }));

  scope.post("/session", {
    schema: { body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }) },
  }, async (request, reply) => {
    if (!apiToken(request.body.token.trim())) {
      const tooMany = await options.limited(request, reply);
      if (tooMany) return tooMany;
      return reply.code(401).send({ statusCode: 401, error: "Unauthorized", message: "that is not an api token of this service (API_TOKENS, or the api-token file in DATA_DIR)" });
    }
    // A new session id at sign-in, so an id planted before it is worth nothing.
    await request.session.regenerate();
    // Over HTTPS (directly, or behind a proxy Fastify trusts) the cookie is never sent in the clear.
    request.session.cookie.secure = request.protocol === "https";
    request.session.signedIn = true;
    return reply.code(204).send();
  });

  scope.delete("/session", async (request, reply) => {
    await request.session.destroy();
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return reply.code(204).send();
  });
};
