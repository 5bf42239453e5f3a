// Downlinks to plugs: validated and encoded by the codec, recorded as rows with a state, pushed to the device's
// network server by the sender, moved along by the network's events. The API routes and the keep-alive
// reconciler both go through send().
import type { FastifyBaseLogger } from "fastify";
import type { Database, Queryable } from "../db/database";
import { nextTurn } from "../db/turns";
import type { Network } from "../ingest/records";
import { unknownDevice } from "../api/devices";
import { knownDevice } from "../api/known-device";
import { ApiError } from "../api/errors";
import type { NetworkRoute } from "./delivery";
import { encode } from "./encode";
import { DEFAULT_RETRY, type RetryPolicy, Sender, type SenderOptions } from "./sender";
import { type Downlink, findDevice, insertDownlink, listDownlinks } from "./store";

export interface SendRequest {
  devEui: string;
  data: Record<string, unknown>;
  confirmed?: boolean;
  /** Who asks: "api", "keepalive", … */
  purpose?: string;
  /**
   * Runs in the transaction that queues the downlink, so what the caller records of it (a desired
   * keep-alive period) is committed with it or not at all, and before the sender can push it.
   */
  record?: (tx: Queryable, downlink: Downlink) => Promise<void>;
}

export interface DownlinkService {
  /** Validate + encode with the codec (400), check the device exists (404) and has a route (409), insert 'queued', wake the sender. */
  send(request: SendRequest): Promise<{ downlink: Downlink; warnings: string[] }>;
  /** Newest first; 404 for an unknown device. */
  list(devEui: string, limit?: number): Promise<Downlink[]>;
  /** Listeners told of every state change (KEEPALIVE's reconciler uses it). */
  onChange(listener: (downlink: Downlink) => void): void;
  /** Tells the listeners of downlinks moved by network events (ingest calls it after its commit). */
  announce(downlinks: Downlink[]): void;
  close(): Promise<void>;
}

export interface DownlinkServiceOptions {
  db: Database;
  routes: Partial<Record<Network, NetworkRoute>>;
  log: FastifyBaseLogger;
  retry?: RetryPolicy;
  /** Resolves once the database is migrated; the sender starts then. */
  ready?: Promise<unknown>;
  onPush?: SenderOptions["onPush"];
}

const NETWORK_NAMES: Record<Network, string> = { ttn: "The Things Stack", chirpstack: "ChirpStack" };
const ROUTE_SETTINGS: Record<Network, string> = {
  ttn: "set TTS_API_URL, TTS_API_KEY and TTS_WEBHOOK_ID, or give the TTS webhook a downlink API key",
  chirpstack: "set CHIRPSTACK_API_URL and CHIRPSTACK_API_TOKEN",
};

export function createDownlinkService(options: DownlinkServiceOptions): DownlinkService {
  const { db, routes, log } = options;
  const listeners: ((downlink: Downlink) => void)[] = [];
  const changed = (downlink: Downlink) => {
    for (const listener of listeners) {
      try {
        listener(downlink);
      } catch (error) {
        log.error({ err: error, downlink: downlink.id }, "a downlink listener failed");
      }
    }
  };
  const sender = new Sender({ db, routes, retry: options.retry ?? DEFAULT_RETRY, log, changed, ready: options.ready, onPush: options.onPush });

  return {
    async send(request) {
      const { fPort, bytes, warnings } = encode(request.data);
      // Callers sending many (the keep-alive reconciler's rounds, a bulk keep-alive request) let ingest through between them.
      await nextTurn();
      const devEui = request.devEui.toLowerCase();
      const device = await findDevice(db, devEui);
      if (!device) throw unknownDevice(devEui);
      const route = routes[device.network];
      const missing = route
        ? route.unavailable(device)
        : `device ${devEui} is on ${NETWORK_NAMES[device.network]}, which has no downlink route: ${ROUTE_SETTINGS[device.network]}`;
      if (missing) throw new ApiError(409, missing);
      const downlink = await db.transaction(async (tx) => {
        const queued = await insertDownlink(tx, {
          devEui, network: device.network, fPort, bytes, data: request.data, confirmed: request.confirmed ?? false,
          purpose: request.purpose ?? "api", ref: route!.reference(),
        });
        await request.record?.(tx, queued);
        return queued;
      });
      changed(downlink);
      sender.wake();
      return { downlink, warnings };
    },

    async list(devEui, limit = 100) {
      return listDownlinks(db, await knownDevice(db, devEui), limit);
    },

    onChange(listener) {
      listeners.push(listener);
    },

    announce(downlinks) {
      for (const downlink of downlinks) changed(downlink);
    },

    async close() {
      await sender.close();
      for (const route of Object.values(routes)) route?.close();
    },
  };
}
