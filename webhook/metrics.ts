// Prometheus metrics of one app instance (its own registry, so test apps do not share counters).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { type FleetState, KEEPALIVE_STATES } from "./fleet-state";
import type { SpoolDepth } from "./store/spool";

const PROTECTIONS = ["overheating", "overvoltage", "overcurrent", "overpower"];
/** The codec's protection messages (60–63 trips, 70–73 recoveries) by field name: overcurrentEvents, overpowerRecoveryTemp, … */
const PROTECTION_KIND = /^(overheating|overvoltage|overcurrent|overpower)(Events|RecoveryTime|RecoveryTemp)$/;

/**
 * `spoolDepth` reads the spool, and `fleet` the database, when metrics are scraped. A scrape while the
 * database does not answer leaves the fleet's gauges out rather than failing (the spool's figures matter then).
 */
export function createMetrics(spoolDepth: () => SpoolDepth = () => ({ records: 0, bytes: 0 }), fleet?: () => Promise<FleetState>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // One database read per scrape for the three gauges that need it: a scrape collects them all at once,
  // so they share the read in flight.
  let reading: Promise<FleetState | undefined> | undefined;
  const fleetNow = () => {
    if (!fleet) return Promise.resolve(undefined);
    reading ??= fleet().catch(() => undefined).finally(() => (reading = undefined));
    return reading;
  };
  const protectionEvents = new Counter({
    name: "webhook_protection_events_total",
    help: "Protection events the plugs reported (stored uplinks): protection overheating, overvoltage, overcurrent or overpower; phase trip or recovery",
    labelNames: ["protection", "phase"], registers,
  });
  // Every series from the start, so that increase() sees the first event.
  for (const protection of PROTECTIONS) for (const phase of ["trip", "recovery"]) protectionEvents.inc({ protection, phase }, 0);
  return {
    registry,
    protectionEvents,
    /** Counts an event the codec named `kind` when it is a protection's trip or recovery. */
    countEvent(kind: string) {
      const m = kind.match(PROTECTION_KIND);
      if (m) protectionEvents.inc({ protection: m[1], phase: m[2] === "Events" ? "trip" : "recovery" });
    },
    devices: new Gauge({
      name: "webhook_devices", help: "Plugs known (devices)", registers,
      async collect() { const state = await fleetNow(); if (state) this.set(state.devices); else this.reset(); },
    }),
    devicesOffline: new Gauge({
      name: "webhook_devices_offline", help: "Plugs offline: no keep-alive within 2.5 of their periods (device_status.online false)", registers,
      async collect() { const state = await fleetNow(); if (state) this.set(state.offline); else this.reset(); },
    }),
    keepaliveDevices: new Gauge({
      name: "webhook_keepalive_devices",
      help: "Plugs by keep-alive state: unknown (nothing desired), pending, in_sync, failed (the network refused, or no report after the retries)",
      labelNames: ["state"], registers,
      async collect() {
        const state = await fleetNow();
        this.reset();
        if (state) for (const s of KEEPALIVE_STATES) this.set({ state: s }, state.keepalive[s] ?? 0);
      },
    }),
    requests: new Counter({ name: "webhook_requests_total", help: "HTTP requests by route and status code", labelNames: ["route", "status"], registers }),
    uplinksStored: new Counter({ name: "webhook_uplinks_stored_total", help: "Uplinks stored", labelNames: ["network"], registers }),
    eventsStored: new Counter({ name: "webhook_events_stored_total", help: "Device events stored (joins, downlink events, …)", labelNames: ["network"], registers }),
    duplicates: new Counter({ name: "webhook_duplicates_total", help: "Messages already stored, answered 200 and not stored again", labelNames: ["network"], registers }),
    decodeErrors: new Counter({ name: "webhook_decode_errors_total", help: "Stored uplinks whose payload the codec could not fully decode", registers }),
    databaseErrors: new Counter({ name: "webhook_database_errors_total", help: "Failed batch transactions", registers }),
    batchSize: new Histogram({ name: "webhook_batch_size", help: "Records per database transaction", buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers }),
    spooled: new Counter({ name: "webhook_spooled_total", help: "Records written to the spool because the database could not take them", registers }),
    replayed: new Counter({ name: "webhook_replayed_total", help: "Spooled records replayed into the database", registers }),
    quarantined: new Counter({
      name: "webhook_quarantined_total",
      help: "Accepted records kept in quarantine (npm run quarantine): cause data_error (the database refused the content) or unknown_device (no DevEUI, device not known yet); kept_in table or file (set-aside)",
      labelNames: ["network", "cause", "kept_in"], registers,
    }),
    spoolRecords: new Gauge({ name: "webhook_spool_records", help: "Records in the spool, waiting for the database", registers, collect() { this.set(spoolDepth().records); } }),
    spoolBytes: new Gauge({ name: "webhook_spool_bytes", help: "Bytes in the spool, waiting for the database", registers, collect() { this.set(spoolDepth().bytes); } }),
    downlinkPushes: new Counter({ name: "webhook_downlink_pushes_total", help: "Downlinks handed to a network API: taken, refused or unreachable and to be retried, or failed after the last try", labelNames: ["network", "outcome"], registers }),
    databaseSeconds: new Histogram({ name: "webhook_database_seconds", help: "Duration of one batch transaction", buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
