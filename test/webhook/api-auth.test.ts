// The two kinds of token never cross (contract §4): a webhook token is refused on /api, an api token on the
// ingest paths; over a real socket.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { loadConfig } from "../../webhook/config";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { API_TOKEN, TOKEN, ttsUplink } from "../support/messages";

describe("api and webhook tokens", () => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    test = await migratedDatabase(DATABASES[0][1]);
    app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 1000 });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  const call = (path: string, token: string | undefined, body?: unknown) => fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  it("refuses /api without a token, and with a webhook token", async () => {
    const none = await call("/api/devices", undefined);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ message: "missing Authorization: Bearer <token> header" });
    const webhook = await call("/api/devices", TOKEN);
    expect(webhook.status).toBe(401);
    expect(await webhook.json()).toMatchObject({ message: "invalid bearer token" });
    expect(webhook.headers.get("www-authenticate")).toBe('Bearer realm="16aspm-api"');
  });

  it("refuses the ingest paths with an api token", async () => {
    const answer = await call("/ttn", API_TOKEN, ttsUplink());
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="16aspm-webhook"');
  });

  it("answers unknown /api paths with 404 only to an api token", async () => {
    expect((await call("/api/nothing-here", undefined)).status).toBe(401);
    const answer = await call("/api/nothing-here", API_TOKEN);
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ message: "GET /api/nothing-here is not part of the API" });
  });
});

describe("api token configuration", () => {
  it("takes API_TOKENS apart from WEBHOOK_TOKENS", () => {
    expect(loadConfig({ API_TOKENS: `${API_TOKEN}, second-api-token-0123` }).apiTokens).toEqual([API_TOKEN, "second-api-token-0123"]);
    expect(loadConfig({}).apiTokens).toBeUndefined();
  });
  it("reads TRUST_PROXY as Fastify's trustProxy, and refuses what it cannot be", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, 172.16.0.0/12" }).trustProxy).toBe("127.0.0.1, 172.16.0.0/12");
    expect(() => loadConfig({ TRUST_PROXY: "caddy" })).toThrow('TRUST_PROXY="caddy": expected true, false, or the proxies\' addresses');
  });
  it("refuses short api tokens and a token shared with the webhook", () => {
    expect(() => loadConfig({ API_TOKENS: "short" })).toThrow("API_TOKENS: token 1 is shorter than 16 characters");
    expect(() => loadConfig({ API_TOKENS: API_TOKEN, WEBHOOK_TOKENS: API_TOKEN })).toThrow("API_TOKENS and WEBHOOK_TOKENS share a token");
  });
});
