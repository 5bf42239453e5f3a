// One budget of failed attempts per address across every door (a console sign-in on /session, an api token
// on /api, a webhook token on /ttn and /chirpstack), over a real socket; and the words of a refusal: a token
// sent without its scheme, a body without a content type on /api.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { loadConfig } from "../../webhook/config";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { API_TOKEN, TOKEN, ttsUplink } from "../support/messages";

const WRONG = "wrong-token-0123456789abcdef";

describe("the failed-auth budget and the words of a refusal", () => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    test = await migratedDatabase(DATABASES[0][1]);
    app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 4 });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  const json = { "content-type": "application/json" };
  const signIn = (token: string) => fetch(`${base}/session`, { method: "POST", headers: json, body: JSON.stringify({ token }) });
  const api = (authorization?: string) => fetch(`${base}/api/devices`, { headers: authorization ? { authorization } : {} });
  const ttn = (authorization: string) => fetch(`${base}/ttn`, { method: "POST", headers: { ...json, authorization }, body: JSON.stringify(ttsUplink()) });
  const chirpstack = (authorization: string) => fetch(`${base}/chirpstack?event=up`, { method: "POST", headers: { ...json, authorization }, body: "{}" });
  const message = async (answer: Response) => ((await answer.json()) as { message: string }).message;

  it("names a token sent without its scheme, and advises application/json on /api", async () => {
    // These run first on an address of their own budget: the test's other requests come after.
    const bare = await fetch(`${base}/api/devices`, { headers: { authorization: API_TOKEN } });
    expect(bare.status).toBe(401);
    expect(await message(bare)).toBe("the Authorization header has no scheme: send Authorization: Bearer <token>");
    const noType = await fetch(`${base}/api/keepalive`, { method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}` }, body: new TextEncoder().encode("{}") });
    expect(noType.status).toBe(415);
    expect(await message(noType)).toBe("a body without Content-Type is not accepted: send application/json");
    const text = await fetch(`${base}/api/keepalive`, { method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "text/plain" }, body: "{}" });
    expect(text.status).toBe(415);
    expect(await message(text)).toBe('Content-Type "text/plain" is not accepted: send application/json');
  });

  it("counts a failed sign-in, a wrong api token, a wrong webhook token on /ttn and on /chirpstack against one budget", async () => {
    // The bare token above was the first failure of this address; three more reach the limit of 4.
    expect((await signIn(WRONG)).status).toBe(401);
    expect((await api(`Bearer ${WRONG}`)).status).toBe(401);
    expect((await ttn(`Bearer ${WRONG}`)).status).toBe(401);
    // Over the budget at every door, whichever was knocked on before.
    for (const answer of [await chirpstack(`Bearer ${WRONG}`), await signIn(WRONG), await api(), await ttn(`Bearer ${API_TOKEN}`)]) {
      expect(answer.status).toBe(429);
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(answer.headers.get("connection")).toBe("close");
      expect(await message(answer)).toMatch(/^too many requests without a valid token from this address; retry in \d+ s$/);
    }
    // Valid credentials are never limited.
    expect((await api(`Bearer ${API_TOKEN}`)).status).toBe(200);
    expect((await ttn(`Bearer ${TOKEN}`)).status).toBe(200);
    expect((await signIn(API_TOKEN)).status).toBe(204);
  });
});

describe("the front's limits, configured", () => {
  it("reads HEADERS_TIMEOUT_MS, BODY_TIMEOUT_MS and MAX_CONNECTIONS, and refuses headers allowed longer than the whole request", () => {
    expect(loadConfig({})).toMatchObject({ headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000, maxConnections: 10_000 });
    expect(loadConfig({ HEADERS_TIMEOUT_MS: "400000", BODY_TIMEOUT_MS: "600000", MAX_CONNECTIONS: "100" }))
      .toMatchObject({ headersTimeoutMs: 400_000, bodyTimeoutMs: 600_000, maxConnections: 100 });
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: "40000" })).toThrow("HEADERS_TIMEOUT_MS=40000 is longer than BODY_TIMEOUT_MS=30000");
    expect(() => loadConfig({ BODY_TIMEOUT_MS: "5" })).toThrow('BODY_TIMEOUT_MS="5": expected an integer 100..600000');
  });

  it("listens with limits above Node's defaults (its check that headers come within the request's limit holds)", async () => {
    const test = await migratedDatabase(DATABASES[0][1]);
    const app = await buildApp({ db: test.db, tokens: [TOKEN], headersTimeoutMs: 400_000, bodyTimeoutMs: 600_000, maxConnections: 100 });
    try {
      await app.listen({ port: 0, host: "127.0.0.1" });
      expect([app.server.headersTimeout, app.server.requestTimeout, app.server.maxConnections]).toEqual([400_000, 600_000, 100]);
    } finally {
      await app.close();
      await test.drop();
    }
  });
});
