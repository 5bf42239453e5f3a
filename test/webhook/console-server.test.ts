// The console's server side over a real socket: sign-in with an api token giving an HttpOnly, SameSite=Strict
// session cookie that the /api scope accepts, sign-out, refusals; the pages, scripts and uPlot served from the
// project (no CDN) under a CSP allowing the console's own scripts only.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { CONSOLE_FILES, CONSOLE_PAGES } from "../../webhook/console/routes";
import { SESSION_COOKIE } from "../../webhook/console/sessions";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { API_TOKEN, TOKEN } from "../support/messages";

describe("the console's sessions and files", () => {
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

  const signIn = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/session`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ token }) });
  const cookieOf = (answer: Response) => answer.headers.get("set-cookie")?.split(";")[0] ?? "";

  it("signs in with an api token: a session cookie, HttpOnly and SameSite=Strict, that holds no token", async () => {
    const answer = await signIn(API_TOKEN);
    expect(answer.status).toBe(204);
    const setCookie = answer.headers.get("set-cookie")!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain(API_TOKEN);
    expect(decodeURIComponent(setCookie)).not.toContain(API_TOKEN);
    const cookie = cookieOf(answer);
    expect(await (await fetch(`${base}/session`, { headers: { cookie } })).json()).toEqual({ signedIn: true });
    expect((await fetch(`${base}/api/devices`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/api/export/energy.csv`, { headers: { cookie } })).status).toBe(200);
  });

  it("signs out: the same cookie no longer reads the API", async () => {
    const cookie = cookieOf(await signIn(API_TOKEN));
    const out = await fetch(`${base}/session`, { method: "DELETE", headers: { cookie } });
    expect(out.status).toBe(204);
    expect((await fetch(`${base}/api/devices`, { headers: { cookie } })).status).toBe(401);
    expect(await (await fetch(`${base}/session`, { headers: { cookie } })).json()).toEqual({ signedIn: false });
  });

  // The guesses are limited per address with every other door's: test/webhook/auth-budget.test.ts.
  it("refuses a webhook token or a wrong one, in words", async () => {
    for (const token of [TOKEN, "wrong-token-0123456789abcdef"]) {
      const answer = await signIn(token);
      expect(answer.status).toBe(401);
      expect(answer.headers.get("set-cookie")).toBeNull();
      expect(((await answer.json()) as { message: string }).message).toContain("that is not an api token of this service");
    }
  });

  it("ignores a session id it did not issue, and a cookie beside a wrong bearer token", async () => {
    expect((await fetch(`${base}/api/devices`, { headers: { cookie: `${SESSION_COOKIE}=forged.value` } })).status).toBe(401);
    const cookie = cookieOf(await signIn(API_TOKEN));
    expect((await fetch(`${base}/api/devices`, { headers: { cookie, authorization: "Bearer not-the-token-0123456789" } })).status).toBe(401);
  });

  it("refuses a change a page on another origin sends with the cookie", async () => {
    const cookie = cookieOf(await signIn(API_TOKEN));
    const host = new URL(base).host;
    const put = (origin: string) => fetch(`${base}/api/keepalive`, {
      method: "PUT", headers: { cookie, origin, "content-type": "application/json" }, body: JSON.stringify({ minutes: 10, devices: [] }),
    });
    expect((await put(`http://${host.replace("127.0.0.1", "localhost")}`)).status).toBe(401);
    expect((await put(`http://${host}`)).status).not.toBe(401);
  });

  it.each(CONSOLE_PAGES.map((p) => p.replace(":devEui", "70b3d52dd300a001")))("serves the page at %s with a CSP for its own scripts only", async (path) => {
    const answer = await fetch(`${base}${path}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = answer.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await answer.text();
    // Every script and style from this service: no CDN, the page works offline.
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.filter((s) => !s.startsWith("/") && !s.startsWith("#"))).toEqual([]);
    expect(html).not.toMatch(/<script>(?!<\/script>)|style="/);
  });

  it("serves the scripts and uPlot from the project's files", async () => {
    const html = await (await fetch(`${base}/`)).text();
    for (const path of [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(200);
    }
    const uplot = await fetch(`${base}/assets/vendor/uplot/uPlot.esm.js`);
    expect(uplot.headers.get("content-type")).toMatch(/javascript/);
    expect(await uplot.text()).toContain("export { uPlot as default }");
    // Only uPlot's script and style are reachable in its folder.
    expect((await fetch(`${base}/assets/vendor/uplot/uPlot.cjs.js`)).status).toBe(404);
    expect((await fetch(`${base}/assets/../package.json`)).status).toBe(404);
    expect(CONSOLE_FILES).toMatch(/webhook[/\\]console[/\\]public$/);
  });
});

// Behind Caddy (TRUST_PROXY): the proxy's X-Forwarded-Proto makes the cookie Secure; without trust it is ignored.
describe("the console behind a TLS proxy", () => {
  it.each([[true, true], [false, false]])("with trustProxy %s the session cookie is Secure: %s", async (trustProxy, secure) => {
    const test = await migratedDatabase(DATABASES[0][1]);
    const app = await buildApp({ db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], trustProxy });
    try {
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      const answer = await fetch(`${base}/session`, {
        method: "POST", headers: { "content-type": "application/json", "x-forwarded-proto": "https" }, body: JSON.stringify({ token: API_TOKEN }),
      });
      expect(answer.status).toBe(204);
      expect(answer.headers.get("set-cookie")!.split(";").map((p) => p.trim())).toSatisfy((parts: string[]) => parts.includes("Secure") === secure);
    } finally {
      await app.close();
      await test.drop();
    }
  });
});
