// The console in a real browser (Debian's chromium driven by playwright-core) against the real service on
// PGlite, with a real HTTP server standing in for The Things Stack's downlink API: sign in, the fleet, a
// plug's charts and figures, the keep-alive form and the relay sending their downlinks, the export, sign
// out; no error in the browser's console and no request failing. Screenshots go to test-artifacts/console/.
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { writeBatch } from "../../webhook/store/batch";
import { DATABASES, migratedDatabase, type TestDatabase } from "../support/databases";
import { hex } from "../support/hex";
import { keepAliveBytes, storeKeepAlives, uplinkRecord } from "../support/keepalives";
import { API_TOKEN, TOKEN } from "../support/messages";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
export const SCREENSHOTS = join("test-artifacts", "console");
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium; .ci/run does)`;
if (missing) console.warn(`console browser tests skipped: ${missing}`);

const KITCHEN = "70b3d52dd300a001";
const OFFICE = "70b3d52dd300a002";
const TTS_KEY = "NNSXS.STAND-IN-KEY";
const MINUTE = 60_000;

interface Pushed { method: string; url: string; authorization: string | undefined; body: { downlinks: { f_port: number; frm_payload: string; confirmed: boolean }[] } }

/** The Things Stack's downlink push endpoint, standing in: records each call, answers 200 as TTS does. */
async function standInTts(): Promise<{ server: Server; url: string; pushed: Pushed[] }> {
  const pushed: Pushed[] = [];
  const read = async (request: IncomingMessage) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    return text;
  };
  const server = createServer(async (request, response) => {
    pushed.push({ method: request.method!, url: request.url!, authorization: request.headers.authorization, body: JSON.parse(await read(request)) });
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pushed };
}

describe.skipIf(missing !== undefined)(`the console in Chromium${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let test: TestDatabase;
  let app: FastifyInstance;
  let tts: Awaited<ReturnType<typeof standInTts>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const problems: string[] = [];
  // Three days of keep-alives every 10 minutes up to now: 30 Wh each, 180 W, 231 V, 790 mA.
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  const kitchenTimes = Array.from({ length: 3 * 144 }, (_, i) => now - (3 * 144 - 1 - i) * 10 * MINUTE);

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    test = await migratedDatabase(DATABASES[0][1]);
    await storeKeepAlives(test.db, KITCHEN, kitchenTimes.map((t, i) => ({
      time: new Date(t).toISOString(), energyWh: 5000 + i * 30, powerW: 180, voltageV: 231, currentMa: 790, temperatureC: 31, relayOn: true,
    })));
    // The office plug went quiet two days ago, after an overvoltage trip and a switch by hand.
    const quiet = now - 2 * 86_400_000;
    await storeKeepAlives(test.db, OFFICE, [{ time: new Date(quiet - 20 * MINUTE).toISOString(), energyWh: 100 }]);
    const keepAlive = [...keepAliveBytes({ time: "", energyWh: 112, powerW: 0 })];
    await test.db.transaction((tx) => writeBatch(tx, [
      uplinkRecord(OFFICE, new Date(quiet - 10 * MINUTE).toISOString(), new Uint8Array([...hex("6103010470001A"), ...keepAlive]), 1),
      uplinkRecord(OFFICE, new Date(quiet).toISOString(), new Uint8Array([...hex("5D00"), ...keepAlive]), 2),
    ]));
    await test.db.query("UPDATE devices SET application = 'office' WHERE dev_eui = $1", [OFFICE]);
    tts = await standInTts();
    app = await buildApp({
      db: test.db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 1000,
      downlinks: { tts: { apiUrl: tts.url, apiKey: TTS_KEY, webhookId: "aspm16" } },
    });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "Europe/Berlin", locale: "en-GB" });
    page = await context.newPage();
    page.on("console", (message) => { if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`); });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
    page.on("response", (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`); });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((resolve) => tts?.server.close(resolve));
    await test?.drop();
  });

  it("signs in with an api token and shows every plug in the fleet", async () => {
    await page.goto(base);
    await page.getByLabel("Api token").fill(API_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    const rows = page.locator("tbody tr[data-dev-eui]");
    await expect.poll(() => rows.count()).toBe(2);
    const kitchen = page.locator(`tr[data-dev-eui="${KITCHEN}"]`);
    await expect.poll(() => kitchen.locator('[data-key="online"]').innerText()).toContain("online");
    expect(await kitchen.locator('[data-key="power"]').innerText()).toBe("180 W");
    expect(await page.locator(`tr[data-dev-eui="${OFFICE}"] [data-key="online"]`).innerText()).toContain("offline");
    // The 7-day column holds every keep-alive's 30 Wh but the first.
    expect(await kitchen.locator('[data-key="week"]').innerText()).toBe(`${((3 * 144 - 1) * 30 / 1000).toFixed(2)} kWh`);
    await expect.poll(() => page.locator('figure[data-chart="Fleet energy per day"] canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, "fleet-1280.png"), fullPage: true });
  });

  it("sorts by a column and filters by application, from the keyboard", async () => {
    await page.locator('th[data-key="power"] button').focus();
    await page.keyboard.press("Enter");
    expect(await page.locator('th[data-key="power"]').getAttribute("aria-sort")).toBe("ascending");
    expect(await page.locator("tr[data-dev-eui]").first().getAttribute("data-dev-eui")).toBe(OFFICE);
    await page.keyboard.press("Enter");
    expect(await page.locator("tr[data-dev-eui]").first().getAttribute("data-dev-eui")).toBe(KITCHEN);
    await page.getByLabel("Application").selectOption("office");
    await expect.poll(() => page.locator("tr[data-dev-eui]").count()).toBe(1);
    await page.getByLabel("Application").selectOption("");
    await expect.poll(() => page.locator("tr[data-dev-eui]").count()).toBe(2);
  });

  it("draws a plug's charts with its numbers, and its events", async () => {
    await page.locator(`a[href="/plugs/${KITCHEN}"]`).click();
    await expect.poll(() => page.url()).toBe(`${base}/plugs/${KITCHEN}`);
    const power = page.locator('figure[data-chart="Power"]');
    await expect.poll(() => power.locator("canvas").count()).toBeGreaterThan(0);
    // 7 days ending tomorrow's local midnight: every keep-alive of the three days.
    expect(await power.getAttribute("data-points")).toBe(String(kitchenTimes.length));
    expect(await power.locator(".summary").innerText()).toContain("max 180 W");
    const volts = page.locator('figure[data-chart="Voltage and current"]');
    expect(await volts.locator(".summary").innerText()).toBe("Voltage 231 V to 231 V; current up to 790 mA.");
    // Two y axes with their units.
    expect(await volts.locator(".u-axis").count()).toBe(3);
    const total = `${((3 * 144 - 1) * 30 / 1000).toFixed(2)} kWh`;
    expect(await page.locator('figure[data-chart="Energy per hour"] .summary').innerText()).toContain(total);
    expect(await page.locator('figure[data-chart="Energy per day"] .summary').innerText()).toContain(total);
    expect(await page.locator('figure[data-chart="Temperature"] .summary').innerText()).toBe("31 °C to 31 °C.");
    await page.screenshot({ path: join(SCREENSHOTS, "plug-1280.png"), fullPage: true });

    await page.goto(`${base}/plugs/${OFFICE}`);
    await page.getByRole("button", { name: "30 days" }).click();
    await expect.poll(() => page.getByText("overvoltage trip").count()).toBe(1);
    expect(await page.getByRole("cell", { name: "relay off", exact: true }).count()).toBe(1);
  });

  it("sets a plug's keep-alive period: the downlink goes to The Things Stack", async () => {
    await page.goto(`${base}/plugs/${KITCHEN}`);
    await page.getByLabel("Keep-alive period (minutes)").fill("15");
    expect(await page.locator("#keepalive-airtime").innerText()).toMatch(/^Every 15 min: 96 keep-alives, [\d.]+ s of airtime a day/);
    await page.getByRole("button", { name: "Set keep-alive period" }).click();
    await expect.poll(() => page.getByText(/^Queued: 020f12/i).count()).toBe(1);
    await expect.poll(() => tts.pushed.length).toBe(1);
    expect(tts.pushed[0]).toMatchObject({
      method: "POST", url: `/api/v3/as/applications/analytics-test/webhooks/aspm16/devices/plug-a001/down/push`, authorization: `Bearer ${TTS_KEY}`,
      body: { downlinks: [{ f_port: 1, frm_payload: Buffer.from("020F12", "hex").toString("base64"), confirmed: false }] },
    });
    await expect.poll(() => page.locator("td .badge").first().innerText()).toMatch(/queued|sent/);
  });

  it("switches the relay off: its downlink goes to The Things Stack", async () => {
    await page.getByRole("button", { name: "Switch relay off" }).click();
    await expect.poll(() => tts.pushed.length).toBe(2);
    expect(tts.pushed[1].body.downlinks[0].frm_payload).toBe(Buffer.from("C100", "hex").toString("base64"));
  });

  it("switches a plug to adaptive mode: mode, target and why shown; the fleet marks it once its radio holds it above the target", async () => {
    await page.goto(`${base}/plugs/${KITCHEN}`);
    await page.getByLabel("Keep-alive period (minutes)").fill("2");
    await page.getByLabel(/^Adaptive/).check();
    expect(await page.getByLabel("Send even if the airtime policy refuses it").isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Set keep-alive period" }).click();
    await expect.poll(() => page.getByText(/^Queued: 020212/i).count()).toBe(1);
    await expect.poll(() => page.locator("#keepalive-facts").innerText()).toContain("adaptive, target 2 min");
    expect(await page.locator("#keepalive-reason").innerText())
      .toBe("2 min: the target; at SF7, 125 kHz a keep-alive takes 61.7 ms, and the 1 % duty cycle allows one every 0.10 min");
    // ADR moves the plug to SF12: the duty cycle needs 2.47 min, so 3 min is pushed and the plug is held above its target.
    await test.db.transaction((tx) => writeBatch(tx, [{ ...uplinkRecord(KITCHEN, new Date().toISOString(), keepAliveBytes({ time: "", energyWh: 5000 + (3 * 144 - 1) * 30 }), 9999), spreadingFactor: 12 }]));
    await app.keepalive.reconcile();
    await expect.poll(() => tts.pushed.length).toBe(4);
    expect(tts.pushed[3].body.downlinks[0].frm_payload).toBe(Buffer.from("020312", "hex").toString("base64"));
    await page.goto(base);
    const row = page.locator(`tr[data-dev-eui="${KITCHEN}"]`);
    await expect.poll(() => row.locator('[data-adaptive="held"]').innerText()).toBe("adaptive: held above 2 min");
    expect(await row.locator('[data-adaptive="held"]').getAttribute("title"))
      .toBe("3 min: at SF12, 125 kHz a keep-alive takes 1482.8 ms; the 1 % duty cycle allows one every 2.47 min");
    await page.goto(`${base}/plugs/${KITCHEN}`);
    await expect.poll(() => page.locator("#keepalive-reason").innerText()).toMatch(/^3 min: at SF12/);
    expect(await page.getByLabel(/^Adaptive/).isChecked()).toBe(true);
    expect(await page.getByLabel("Keep-alive period (minutes)").inputValue()).toBe("2");
  });

  it("exports energy as CSV whose rows are the plug's days", async () => {
    await page.getByRole("link", { name: "Export" }).click();
    await page.getByLabel("Plugs").selectOption(KITCHEN);
    await expect.poll(() => page.getByRole("status").last().innerText()).toMatch(/^The file holds \d+ rows \(1 plug\)/);
    expect(await page.getByRole("status").last().innerText()).toContain(`${((3 * 144 - 1) * 30 / 1000).toFixed(2)} kWh in all`);
    const href = await page.locator("#export-download").getAttribute("href");
    const csv = await (await page.request.get(`${base}${href}`)).text();
    const [header, ...rows] = csv.trim().split("\n");
    expect(header).toBe("dev_eui,name,period_start,energy_wh");
    expect(rows.reduce((sum, row) => sum + Number(row.split(",")[3]), 0)).toBe((3 * 144 - 1) * 30);
    await page.screenshot({ path: join(SCREENSHOTS, "export-1280.png"), fullPage: true });
  });

  it("reads on a phone", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, storageState: await context.storageState() });
    await phone.goto(base);
    await expect.poll(() => phone.locator("tr[data-dev-eui]").count()).toBe(2);
    // Nothing wider than the screen but the table, which scrolls in its own box.
    expect(await phone.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(SCREENSHOTS, "fleet-phone.png"), fullPage: true });
    await phone.close();
  });

  it("signs out: the session no longer reads the API", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByLabel("Api token").count()).toBe(1);
    const answer = await page.request.get(`${base}/api/devices`);
    expect(answer.status()).toBe(401);
  });

  it("says why a wrong token is refused", async () => {
    const other = await browser.newPage();
    await other.goto(base);
    await other.getByLabel("Api token").fill("not-the-token-0123456789");
    await other.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => other.getByRole("alert").innerText()).toContain("that is not an api token of this service");
    await other.close();
  });

  it("logged no error in the browser and no request failed", () => {
    expect(problems).toEqual([]);
  });
});
