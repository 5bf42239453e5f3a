// The api token check (contract §4): every configured token is accepted, nothing near one is, and callers
// without a valid token are limited per address while callers with one never are; over a real socket.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { tokenMatcher } from "../../webhook/tokens";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { API_TOKEN, TOKEN } from "../support/messages";

const SECOND_API_TOKEN = "second-api-token-fedcba9876543210";

describe("api token matching", () => {
  it("accepts each configured token and nothing that only shares a prefix, a case or a length with one", () => {
    const matches = tokenMatcher([API_TOKEN, SECOND_API_TOKEN]);
    expect(matches(API_TOKEN)).toBe(true);
    expect(matches(SECOND_API_TOKEN)).toBe(true);
    for (const near of [API_TOKEN.slice(0, -1), `${API_TOKEN}x`, API_TOKEN.toUpperCase(), `${API_TOKEN.slice(0, -1)}g`, "", " "]) {
      expect(matches(near)).toBe(false);
    }
    expect(tokenMatcher([])(API_TOKEN)).toBe(false);
  });
});

describe("api rate limit for callers without a valid token", () => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    test = await migratedDatabase(DATABASES[0][1]);
    app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN, SECOND_API_TOKEN], unauthenticatedPerMinute: 3 });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
    await test.drop();
  });

  const get = (token?: string) => fetch(`${base}/api/devices`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("answers 401 up to the limit, then 429 naming the wait; a valid api token is still served", async () => {
    const statuses = [];
    for (const token of [undefined, TOKEN, "wrong-token-0123456789abcdef"]) statuses.push((await get(token)).status);
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await get(TOKEN);
    expect(limited.status).toBe(429);
    expect((await limited.json() as { message: string }).message).toMatch(/^too many requests without a valid token from this address; retry in /);
    for (const token of [API_TOKEN, SECOND_API_TOKEN, API_TOKEN, API_TOKEN]) expect((await get(token)).status).toBe(200);
  });
});
