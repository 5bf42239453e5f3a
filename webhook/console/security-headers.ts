// Security headers on every answer (@fastify/helmet): the console runs its own scripts and styles only,
// talks only to this service, and cannot be framed.
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

export async function securityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The service is often reached over plain HTTP on a LAN: HSTS there would lock browsers out of it
    // (put a TLS proxy in front and let it send HSTS).
    strictTransportSecurity: false,
  });
}
