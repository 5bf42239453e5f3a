// The device management API (contract §4): every route under /api needs an api token, or a console
// session signed in with one.
import type { FastifyPluginAsync } from "fastify";
import { bearerAuth, bearerToken, type FailureLimiter } from "../../auth/bearer";
import { signedIn } from "../../console/sessions";
import type { Database } from "../../db/database";
import type { DownlinkService } from "../../downlinks/service";
import type { KeepaliveService } from "../../keepalive/service";
import { tokenMatcher } from "../../tokens";
import { deviceChangeRoutes } from "./device-changes";
import { deviceRoutes } from "./devices";
import { downlinkRoutes } from "./downlinks";
import { energyRoutes } from "./energy";
import { keepaliveRoutes } from "./keepalive";
import { readingsRoutes } from "./readings";

export interface ApiOptions {
  db: Database;
  apiTokens: string[];
  /** The app's one budget of failed attempts per address. */
  limited: FailureLimiter;
  downlinks: DownlinkService;
  keepalive: KeepaliveService;
}

export const apiRoutes: FastifyPluginAsync<ApiOptions> = async (api, options) => {
  const apiToken = tokenMatcher(options.apiTokens);
  await bearerAuth(api, {
    authorized: (request) => { const token = bearerToken(request); return token !== undefined ? apiToken(token) : signedIn(request); },
    limited: options.limited, realm: "16aspm-api",
  });
  await api.register(deviceRoutes, { db: options.db });
  await api.register(deviceChangeRoutes, { db: options.db });
  await api.register(downlinkRoutes, { downlinks: options.downlinks });
  await api.register(energyRoutes, { db: options.db });
  await api.register(keepaliveRoutes, { keepalive: options.keepalive });
  await api.register(readingsRoutes, { db: options.db });
  // Unknown paths under /api answer only to an api token, so the API's shape is not probed without one.
  api.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, error: "Not Found", message: `${request.method} ${request.url} is not part of the API` }));
};
