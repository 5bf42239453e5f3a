// Bulk work takes turns with ingest. On PGlite a PUT /api/keepalive for 10,000 plugs held every uplink for
// the whole request (4 s median, 18 s at worst) and /healthz with them: its loop of queries never let the
// event loop read a socket. Here a bulk PUT for 500 plugs runs while uplinks keep arriving, which must be
// answered while it is still under way. And the bulk answer tells the truth: never a 202 when no plug was set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { ttsUplink } from "../support/messages";

const PLUGS = 500;
const devEuiOf = (n: number) => `70b3d52dd5${n.toString(16).padStart(6, "0")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DATABASES)("bulk keep-alive requests on %s", (_name, factory) => {
  let service: ApiApp;
  beforeAll(async () => {
    service = await startApiApp(factory);
    // Known plugs on TTS, which has no downlink route here (no TTS_API_URL, no webhook headers yet): each is refused 409.
    await service.db.query(`INSERT INTO devices (dev_eui, network, application, first_seen)
      SELECT '70b3d52dd5' || lpad(to_hex(g), 6, '0'), 'ttn', 'bulk', now() FROM generate_series(0, $1::int - 1) g`, [PLUGS]);
  });
  afterAll(() => service.close());

  it(`answers uplinks while a PUT for ${PLUGS} plugs is under way, and /healthz too`, async () => {
    const started = performance.now();
    let answeredAt = 0;
    const put = service.api("PUT", "/keepalive", { minutes: 15, devices: Array.from({ length: PLUGS }, (_, i) => devEuiOf(i)) })
      .then((answer) => {
        answeredAt = performance.now();
        return answer;
      });
    const latencies: number[] = [];
    let beforePut = 0;
    let n = 0;
    while (!answeredAt) {
      const sent = performance.now();
      const [status, health] = await Promise.all([
        service.ingest("/ttn", ttsUplink({ devEui: devEuiOf(n % PLUGS), id: `bulk-${Date.now()}-${n}`, fCnt: n })),
        fetch(`${service.base}/healthz`).then((r) => r.status),
      ]);
      n++;
      expect([status, health]).toEqual([200, 200]);
      latencies.push(performance.now() - sent);
      if (!answeredAt) beforePut++;
      await sleep(20);
    }
    const answer = await put;
    // Every plug refused alike (no downlink route): that status, not a 202.
    expect(answer.status).toBe(409);
    expect(answer.body.results).toHaveLength(PLUGS);
    const seconds = (answeredAt - started) / 1000;
    // Before, no uplink was answered until the PUT was (it held them all); loosely: several were, none slowly.
    expect(beforePut, `uplinks answered during the ${seconds.toFixed(1)} s PUT`).toBeGreaterThanOrEqual(3);
    expect(Math.max(...latencies), `slowest of ${latencies.length} uplinks during a ${seconds.toFixed(1)} s PUT`).toBeLessThan(2000);
  }, 300_000);

  it("is 202 when any plug's downlink was queued, the shared status when every plug was refused alike, 207 when differently", async () => {
    const unknown = ["70b3d52dd5ffff01", "70b3d52dd5ffff02"];
    const allUnknown = await service.api("PUT", "/keepalive", { minutes: 15, devices: unknown });
    expect(allUnknown.status).toBe(404);
    expect(allUnknown.body).toEqual({
      statusCode: 404, error: "Not Found",
      message: `none of the 2 plugs was set, each refused with 404; the first: device ${unknown[0]} is not known: it appears once the service has received an uplink or join from it`,
      results: unknown.map((devEui) => ({ devEui, status: 404, error: expect.stringContaining(`device ${devEui} is not known`) })),
    });

    const one = await service.api("PUT", "/keepalive", { minutes: 15, devices: [unknown[0]] });
    expect(one.status).toBe(404);
    expect(one.body.message).toBe(`device ${unknown[0]} is not known: it appears once the service has received an uplink or join from it`);

    const mixed = await service.api("PUT", "/keepalive", { minutes: 15, devices: [devEuiOf(0), unknown[0]] });
    expect(mixed.status).toBe(207);
    expect(mixed.body).toEqual({ results: [
      { devEui: devEuiOf(0), status: 409, error: expect.stringContaining("has no downlink route") },
      { devEui: unknown[0], status: 404, error: expect.stringContaining("is not known") },
    ] });
  });
});
