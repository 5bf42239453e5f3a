// What the service logs per request, over a real socket: one line per uplink at info, one line without a
// stack for a refused request (4xx), the stack for a failure (5xx). Tokens never appear.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiApp, type ApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { TOKEN, ttsUplink } from "../support/messages";

describe("request logs on PGlite", () => {
  let service: ApiApp;
  beforeAll(async () => {
    service = await startApiApp(DATABASES[0][1]);
  });
  afterAll(async () => {
    await service?.close();
  });
  /** The lines at info and above that `call` writes. */
  const linesOf = async (call: () => Promise<unknown>) => {
    const before = service.logs.length;
    await call();
    // onResponse runs after the answer is written.
    await new Promise((r) => setTimeout(r, 50));
    return service.logs.slice(before).map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.level >= 30);
  };

  it("writes one line per stored uplink", async () => {
    const lines = await linesOf(async () => expect(await service.ingest("/ttn", ttsUplink({ time: new Date().toISOString() }))).toBe(200));
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: "request", method: "POST", url: "/ttn", statusCode: 200, ms: expect.any(Number) })]);
  });

  it.each([
    ["a schema violation", () => service.ingest("/ttn", { end_device_ids: {} }), 400, "body/end_device_ids must have required property 'device_id'"],
    ["a wrong token", () => service.ingest("/ttn", ttsUplink(), { authorization: "Bearer not-the-token-at-all" }), 401, undefined],
    ["an unknown device", () => service.api("GET", "/devices/00000000000000ff"), 404, "device 00000000000000ff is not known"],
    ["bad JSON", () => fetch(`${service.base}/ttn`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: "{" }), 400, "not valid JSON"],
  ])("logs %s as one line at info naming the refusal, without a stack", async (_what, call, status, refused) => {
    const lines = await linesOf(call);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: "request", statusCode: status });
    if (refused) expect(lines[0].refused).toContain(refused);
    expect(JSON.stringify(lines[0])).not.toMatch(/stack|    at /);
    expect(JSON.stringify(lines[0])).not.toContain(TOKEN);
  });

  it("logs a failure (5xx) with its stack", async () => {
    // The device of the first test, whose removal then finds a table missing.
    await service.db.query("ALTER TABLE keepalive_desired RENAME TO keepalive_desired_gone");
    try {
      const lines = await linesOf(async () => expect((await service.api("DELETE", "/devices/70b3d52dd3000001")).status).toBe(500));
      expect(lines.map((l) => [l.level, l.msg])).toEqual([[50, "request failed"], [30, "request"]]);
      expect(lines[0].err.stack).toContain("    at ");
    } finally {
      await service.db.query("ALTER TABLE keepalive_desired_gone RENAME TO keepalive_desired");
    }
  });
});
