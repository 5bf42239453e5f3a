// The conditions the Grafana alert rules watch, as Prometheus metrics over HTTP (GET /metrics): plugs
// offline, protection events by protection and phase, plugs per keep-alive state; on PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiApp, type ApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { ttsUplink } from "../support/messages";

const ONLINE = "70b3d52dd3006001";
const OFFLINE = "70b3d52dd3006002";
const TRIPPED = "70b3d52dd3006003";
const KEEP_ALIVE = "011C034A241805D9E7195201";
const b64 = (hexText: string) => Buffer.from(hexText, "hex").toString("base64");

describe.each(DATABASES)("alert metrics on %s", (_name, factory) => {
  let service: ApiApp;
  beforeAll(async () => {
    service = await startApiApp(factory);
  });
  afterAll(async () => {
    await service?.close();
  });

  /** GET /metrics, as the samples of the metrics named `prefix…`: "name{labels}" → value. */
  const scrape = async (prefix: string) => {
    const answer = await fetch(`${service.base}/metrics`);
    expect(answer.status).toBe(200);
    const samples: Record<string, number> = {};
    for (const line of (await answer.text()).split("\n")) {
      const m = line.match(/^(\S+?)(\{[^}]*\})? (\S+)$/);
      if (m && m[1].startsWith(prefix)) samples[`${m[1]}${m[2] ?? ""}`] = Number(m[3]);
    }
    return samples;
  };
  const uplink = (devEui: string, minutesAgo: number, payloadHex: string, o: { simulated?: boolean } = {}) =>
    service.ingest("/ttn", ttsUplink({ devEui, time: new Date(Date.now() - minutesAgo * 60_000).toISOString(), payload: b64(payloadHex), ...o }));

  it("counts plugs offline (no keep-alive within 2.5 periods) and known", async () => {
    expect(await scrape("webhook_devices")).toEqual({ webhook_devices: 0, webhook_devices_offline: 0 });
    expect(await uplink(ONLINE, 5, KEEP_ALIVE)).toBe(200);
    // 10-minute period: 26 minutes silent is past 2.5 periods.
    expect(await uplink(OFFLINE, 26, KEEP_ALIVE)).toBe(200);
    expect(await scrape("webhook_devices")).toEqual({ webhook_devices: 2, webhook_devices_offline: 1 });
  });

  it("counts protection trips and recoveries by protection, once per stored uplink", async () => {
    const zero = await scrape("webhook_protection_events_total");
    // Every protection and phase from the start, at 0.
    expect(Object.keys(zero)).toHaveLength(8);
    expect(Object.values(zero)).toEqual(Array(8).fill(0));
    // An overvoltage trip (61) and an overheating recovery (70) before the keep-alive; then the same uplink
    // again (a duplicate) and a simulated trip, neither of which counts.
    const trip = ttsUplink({ devEui: TRIPPED, time: new Date(Date.now() - 60_000).toISOString(), payload: b64(`6103010470001A${KEEP_ALIVE}`) });
    expect(await service.ingest("/ttn", trip)).toBe(200);
    expect(await service.ingest("/ttn", trip)).toBe(200);
    expect(await uplink(TRIPPED, 0, `6203010470001A${KEEP_ALIVE}`, { simulated: true })).toBe(200);
    expect(await scrape("webhook_protection_events_total")).toEqual({
      ...zero,
      'webhook_protection_events_total{protection="overvoltage",phase="trip"}': 1,
      'webhook_protection_events_total{protection="overheating",phase="recovery"}': 1,
    });
  });

  it("counts plugs per keep-alive state, failed ones among them", async () => {
    await service.db.query("INSERT INTO keepalive_desired (dev_eui, minutes, requested_at, attempts, failed_at) VALUES ($1, 15, now(), 3, now())", [OFFLINE]);
    await service.db.query("INSERT INTO keepalive_desired (dev_eui, minutes, requested_at, attempts) VALUES ($1, 20, now(), 1)", [ONLINE]);
    expect(await scrape("webhook_keepalive_devices")).toEqual({
      'webhook_keepalive_devices{state="unknown"}': 1,
      'webhook_keepalive_devices{state="pending"}': 1,
      'webhook_keepalive_devices{state="in_sync"}': 0,
      'webhook_keepalive_devices{state="failed"}': 1,
    });
    // The same as the view dashboards and the API read.
    const { rows } = await service.db.query<{ state: string; n: number }>("SELECT state, count(*)::integer AS n FROM device_keepalive GROUP BY state ORDER BY state");
    expect(rows).toEqual([{ state: "failed", n: 1 }, { state: "pending", n: 1 }, { state: "unknown", n: 1 }]);
  });
});
