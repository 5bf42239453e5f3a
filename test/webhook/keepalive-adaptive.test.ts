// Adaptive keep-alive (issue 23, contract §4) end to end over real sockets, with the TTS and ChirpStack
// stand-ins: a plug's period follows its radio (longer at once, shorter once the better radio has held),
// within the day's bound of changes and TTN's 10 downlinks a day; KEEPALIVE_TARGET_MINUTES and application
// targets for new plugs; fixed plugs left alone; bad input refused with nothing sent; the measured airtime.
// The reconciler's clock is the test's: uplinks are sent at its times, and passes run when it moves on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeOnAirMs } from "../../webhook/keepalive/airtime";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { ttsDownlinkEvent } from "../support/downlink-events";
import { chirpstackUplink, ttsUplink } from "../support/messages";
import { type ChirpStackStandIn, chirpstackStandIn, type TtsStandIn, ttsStandIn, until } from "../support/network-apis";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const KEEP_ALIVE = "011c034a241805d9e7195201";
const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
const SF12_REASON = "72 min: at SF12, 125 kHz a keep-alive takes 1482.8 ms; TTN's fair use allows one every 71.2 min";
const SF7_REASON = "10 min: the target; at SF7, 125 kHz a keep-alive takes 61.7 ms, and TTN's fair use allows one every 2.96 min";

describe.each(DATABASES)("adaptive keep-alive on %s", (_name, factory) => {
  let tts: TtsStandIn;
  let chirpstack: ChirpStackStandIn;
  let app: ApiApp;
  /** The reconciler's clock, three days behind the real one so that every uplink sent at it is in the past. */
  let clock = Date.now() - 72 * HOUR;
  let devices = 0;

  beforeAll(async () => {
    tts = await ttsStandIn();
    chirpstack = await chirpstackStandIn();
    app = await startApiApp(factory, {
      airtimePolicy: "ttn-fair-use",
      downlinks: {
        tts: { apiUrl: tts.url, apiKey: "NNSXS.ADAPTIVE.0123456789", webhookId: "aspm16" },
        chirpstack: { apiUrl: chirpstack.address, apiToken: "chirpstack-api-key-0123456789" },
      },
      keepalive: { intervalMs: 60 * MINUTE, now: () => new Date(clock) },
    });
  });
  afterAll(async () => {
    await app?.close();
    await tts?.close();
    await chirpstack?.close();
  });

  interface Plug { devEui: string; deviceId: string; application: string }
  const newPlug = (application = "energy-demo"): Plug => {
    const devEui = `70b3d52dd323${(devices++).toString(16).padStart(4, "0")}`;
    return { devEui, deviceId: `plug-${devEui.slice(-4)}`, application };
  };
  /** The plug is heard at the clock's time `at` (ms), at `sf`, with `extra` bytes before its keep-alive; then a reconciler pass. */
  async function hear(plug: Plug, at: number, sf: number, extra = ""): Promise<void> {
    clock = at;
    const message = ttsUplink({ devEui: plug.devEui.toUpperCase(), payload: b64(extra + KEEP_ALIVE), time: new Date(at).toISOString() });
    message.end_device_ids.device_id = plug.deviceId;
    message.end_device_ids.application_ids.application_id = plug.application;
    message.uplink_message.settings.data_rate.lora.spreading_factor = sf;
    expect(await app.ingest("/ttn", message)).toBe(200);
    await app.app.keepalive.reconcile();
  }
  const device = async (plug: Plug) => (await app.api("GET", `/devices/${plug.devEui}`)).body;
  /** The payloads pushed to the plug, as hex. */
  const pushes = (plug: Plug) => tts.calls.filter((c) => c.path.includes(`/devices/${plug.deviceId}/`))
    .map((c) => Buffer.from(JSON.parse(c.body).downlinks[0].frm_payload as string, "base64").toString("hex"));
  const pushed = (plug: Plug, count: number) => until(() => pushes(plug).length >= count && pushes(plug), `${count} pushes to ${plug.deviceId}`);
  /** The plug's history of desired periods: minutes after `t0`, from → to, cause. */
  async function history(plug: Plug, t0: number): Promise<string[]> {
    const { rows } = await app.db.query<{ at: Date; from_minutes: number | null; to_minutes: number; cause: string }>(
      "SELECT at, from_minutes, to_minutes, cause FROM keepalive_changes WHERE dev_eui = $1 ORDER BY at", [plug.devEui]);
    return rows.map((r) => `+${(new Date(r.at).getTime() - t0) / MINUTE} min ${r.from_minutes ?? "-"} → ${r.to_minutes} (${r.cause})`);
  }

  it("SF7 → SF12 → SF7: 72 min pushed at the first SF12 uplink, 10 min again once SF7 has held for 6 hours, nothing else", async () => {
    const plug = newPlug();
    const t0 = clock + HOUR;
    await hear(plug, t0, 7, "120a");
    const put = await app.api("PUT", `/devices/${plug.devEui}/keepalive`, { minutes: 10, adapt: true });
    expect(put).toMatchObject({ status: 202, body: { downlink: { bytes: "020a12" }, warnings: [] } });
    expect((await device(plug)).keepalive).toMatchObject({ mode: "adaptive", target: 10, desired: 10, reported: 10, state: "in_sync", reason: SF7_REASON });
    await pushed(plug, 1);

    // ADR moves the plug to SF12: the next pass pushes 02 48 12 (TTN's fair use: 48 × 1.4828 s = 71.2 min).
    await hear(plug, t0 + 10 * MINUTE, 12);
    expect(await pushed(plug, 2)).toEqual(["020a12", "024812"]);
    expect((await device(plug)).keepalive).toMatchObject({ mode: "adaptive", target: 10, desired: 72, reported: 10, state: "pending", reason: SF12_REASON });
    await hear(plug, t0 + 20 * MINUTE, 12, "1248");
    expect((await device(plug)).keepalive).toMatchObject({ desired: 72, reported: 72, state: "in_sync" });
    const { rows } = await app.db.query("SELECT mode, target_minutes, reason, desired_minutes FROM device_keepalive WHERE dev_eui = $1", [plug.devEui]);
    expect(rows).toEqual([{ mode: "adaptive", target_minutes: 10, reason: SF12_REASON, desired_minutes: 72 }]);

    // Back at SF7, every 72 minutes: an SF12 uplink is within the last 6 hours until +380 min.
    for (const minutes of [92, 164, 236, 308]) {
      await hear(plug, t0 + minutes * MINUTE, 7);
      expect((await device(plug)).keepalive).toMatchObject({ desired: 72, reason: SF12_REASON });
    }
    expect(pushes(plug)).toHaveLength(2);
    await hear(plug, t0 + 380 * MINUTE, 7);
    expect(await pushed(plug, 3)).toEqual(["020a12", "024812", "020a12"]);
    expect((await device(plug)).keepalive).toMatchObject({ desired: 10, reported: 72, state: "pending", reason: SF7_REASON });
    await hear(plug, t0 + 390 * MINUTE, 7, "120a");
    for (let minutes = 400; minutes < 24 * 60; minutes += 10) await hear(plug, t0 + minutes * MINUTE, 7);
    expect(pushes(plug)).toEqual(["020a12", "024812", "020a12"]);
    expect((await device(plug)).keepalive).toMatchObject({ desired: 10, reported: 10, state: "in_sync" });
    expect(await history(plug, t0)).toEqual(["+0 min - → 10 (api)", "+10 min 10 → 72 (radio)", "+380 min 72 → 10 (radio)"]);
  });

  it("a flapping radio: no more than 4 adaptive changes in any 24 hours, and a longer period is never held up by the bound", async () => {
    const plug = newPlug();
    const t0 = clock + HOUR;
    await hear(plug, t0, 7);
    expect((await app.api("PUT", `/devices/${plug.devEui}/keepalive`, { minutes: 10, adapt: true })).status).toBe(202);
    // One SF12 uplink every 7 hours, SF7 every 10 minutes between: unchecked, a change every few hours. The
    // plug reports its desired period with each uplink (it is in sync: no retries).
    let waiting = "";
    for (let minutes = 10; minutes <= 48 * 60; minutes += 10) {
      const desired = (await device(plug)).keepalive.desired as number;
      await hear(plug, t0 + minutes * MINUTE, minutes % 420 === 0 ? 12 : 7, `12${desired.toString(16).padStart(2, "0")}`);
      if (minutes === 1250) waiting = (await device(plug)).keepalive.reason;
    }
    expect(waiting).toBe("72 min until 10 min may be sent: 3 of its 4 adaptive changes a day are used (a shorter period waits until two " +
      `are left, so a longer one can follow it). ${SF7_REASON}`);
    const changes = (await history(plug, t0)).slice(1);
    const times = changes.map((c) => Number(/^\+(\d+)/.exec(c)![1]));
    for (const start of times) expect(times.filter((t) => t >= start && t < start + 24 * 60).length).toBeLessThanOrEqual(4);
    // Every SF12 uplink finds the plug on 72 min (raised then, or still there): the bound never kept it short.
    expect(changes).toEqual([
      "+420 min 10 → 72 (radio)", "+780 min 72 → 10 (radio)", "+840 min 10 → 72 (radio)",
      // A fourth change would leave none for a longer period: 72 min (SF12 at +1260 and +1680 finds it there)
      // until the first of them is a day old and the SF12 of +1680 six hours old.
      "+2040 min 72 → 10 (radio)", "+2100 min 10 → 72 (radio)", "+2460 min 72 → 10 (radio)", "+2520 min 10 → 72 (radio)",
      // +2880: four changes since +1440, so 72 min stays.
    ]);
    expect(await pushed(plug, 1 + changes.length)).toHaveLength(1 + changes.length);
  });

  it("a new plug of an application with a target (bulk PUT with adapt) is set without an API call", async () => {
    const first = newPlug("greenhouse");
    await hear(first, clock + HOUR, 9);
    const bulk = await app.api("PUT", "/keepalive", { minutes: 12, adapt: true, application: "greenhouse" });
    expect(bulk.body.results).toEqual([{ devEui: first.devEui, status: 202, downlink: expect.objectContaining({ bytes: "020c12" }), warnings: [] }]);
    const later = newPlug("greenhouse");
    await hear(later, clock + MINUTE, 12);
    expect(await pushed(later, 1)).toEqual(["024812"]);
    expect((await device(later)).keepalive).toMatchObject({ mode: "adaptive", target: 12, desired: 72, reason: SF12_REASON });
    // A plug of another application: nothing desired, nothing sent (no KEEPALIVE_TARGET_MINUTES here).
    const other = newPlug("orchard");
    await hear(other, clock + MINUTE, 12);
    expect((await device(other)).keepalive).toMatchObject({ mode: "fixed", desired: null, state: "unknown", reason: null });
    // A fixed period for the whole application removes its target.
    expect((await app.api("PUT", "/keepalive", { minutes: 30, application: "greenhouse" })).status).toBe(202);
    const third = newPlug("greenhouse");
    await hear(third, clock + MINUTE, 12);
    expect((await device(third)).keepalive.desired).toBeNull();
    expect(pushes(other)).toEqual([]);
    expect(pushes(third)).toEqual([]);
  });

  it("TTN's 10 downlinks a day, the API's and TTS's own counted: a longer period waits, saying why, until the day has room", async () => {
    const plug = newPlug();
    const t0 = clock + HOUR;
    await hear(plug, t0, 7);
    expect((await app.api("PUT", `/devices/${plug.devEui}/keepalive`, { minutes: 10, adapt: true })).status).toBe(202);
    for (let i = 0; i < 8; i++) expect((await app.api("POST", `/devices/${plug.devEui}/downlinks`, { data: { setRelayState: i % 2 } })).status).toBe(202);
    // One sent from the TTS console: TTS reports it, with correlation ids that are not this service's.
    expect(await app.ingest("/ttn", ttsDownlinkEvent("downlink_sent", { devEui: plug.devEui, deviceId: plug.deviceId, correlationIds: ["as:console:1"] }))).toBe(200);
    await pushed(plug, 9);
    await hear(plug, t0 + 10 * MINUTE, 12);
    await hear(plug, t0 + 20 * MINUTE, 12);
    expect(pushes(plug)).toHaveLength(9);
    expect((await device(plug)).keepalive).toMatchObject({
      desired: 10,
      reason: `10 min until 72 min may be sent: it has had 10 downlinks in 24 h, and TTN's fair use allows 10 a day. ${SF12_REASON}`,
    });
    // A day later (the rows' own times moved back a day), the next uplink sends it.
    await app.db.query("UPDATE downlinks SET created_at = created_at - interval '1 day' WHERE dev_eui = $1", [plug.devEui]);
    await app.db.query("UPDATE device_events SET time = time - interval '1 day' WHERE dev_eui = $1 AND kind = 'downlink_sent'", [plug.devEui]);
    await hear(plug, t0 + 30 * MINUTE, 12);
    expect((await pushed(plug, 10)).at(-1)).toBe("024812");
    expect((await device(plug)).keepalive).toMatchObject({ desired: 72, reason: SF12_REASON });
  });

  it("TTN's 10 a day holds for the retries of an adaptive plug's round too", async () => {
    const plug = newPlug();
    const t0 = clock + HOUR;
    await hear(plug, t0, 7);
    expect((await app.api("PUT", `/devices/${plug.devEui}/keepalive`, { minutes: 10, adapt: true })).status).toBe(202);
    for (let i = 0; i < 8; i++) expect((await app.api("POST", `/devices/${plug.devEui}/downlinks`, { data: { getRelayState: true } })).status).toBe(202);
    // The 10th downlink: 72 min. The plug never reports it.
    await hear(plug, t0 + 10 * MINUTE, 12);
    expect((await pushed(plug, 10)).at(-1)).toBe("024812");
    // Its retry is due 3 periods later (3 × 72 min), but the day is full: it waits.
    clock = t0 + 10 * MINUTE + 3 * 72 * MINUTE;
    await app.app.keepalive.reconcile();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pushes(plug)).toHaveLength(10);
    expect((await device(plug)).keepalive).toMatchObject({ desired: 72, state: "pending", attempts: 1 });
    // A day on, it goes.
    await app.db.query("UPDATE downlinks SET created_at = created_at - interval '1 day' WHERE dev_eui = $1", [plug.devEui]);
    await app.app.keepalive.reconcile();
    expect((await pushed(plug, 11)).at(-1)).toBe("024812");
    expect((await device(plug)).keepalive).toMatchObject({ desired: 72, state: "pending", attempts: 2 });
  });

  it("ChirpStack: SF7 → SF12 enqueues 02 48 12 over gRPC; TTN's downlink limit is not ChirpStack's", async () => {
    const devEui = `70b3d52dd325${(devices++).toString(16).padStart(4, "0")}`;
    const heard = async (at: number, sf: number) => {
      clock = at;
      const message = chirpstackUplink({ devEui, data: b64(KEEP_ALIVE), time: new Date(at).toISOString() });
      message.txInfo.modulation.lora.spreadingFactor = sf;
      expect(await app.ingest("/chirpstack?event=up", message)).toBe(200);
      await app.app.keepalive.reconcile();
    };
    const enqueued = () => chirpstack.calls.filter((c) => c.devEui === devEui).map((c) => c.data.toString("hex"));
    const t0 = clock + HOUR;
    await heard(t0, 7);
    expect((await app.api("PUT", `/devices/${devEui}/keepalive`, { minutes: 10, adapt: true })).status).toBe(202);
    for (let i = 0; i < 10; i++) expect((await app.api("POST", `/devices/${devEui}/downlinks`, { data: { getRelayState: true } })).status).toBe(202);
    await heard(t0 + 10 * MINUTE, 12);
    expect(await until(() => enqueued().length === 12 && enqueued(), "12 Enqueue calls")).toEqual(["020a12", ...Array(10).fill("b1"), "024812"]);
    expect((await app.api("GET", `/devices/${devEui}`)).body.keepalive).toMatchObject({ mode: "adaptive", desired: 72, reason: SF12_REASON });
  });

  it("never changes a fixed plug, nor one returned to fixed mode with adapt false", async () => {
    const fixed = newPlug();
    const back = newPlug();
    const t0 = clock + HOUR;
    await hear(fixed, t0, 7);
    await hear(back, t0, 7);
    expect((await app.api("PUT", `/devices/${fixed.devEui}/keepalive`, { minutes: 10 })).status).toBe(202);
    expect((await app.api("PUT", `/devices/${back.devEui}/keepalive`, { minutes: 10, adapt: true })).status).toBe(202);
    expect((await app.api("PUT", `/devices/${back.devEui}/keepalive`, { minutes: 15, adapt: false })).body.downlink.bytes).toBe("020f12");
    for (let minutes = 10; minutes <= 12 * 60; minutes += 10) {
      await hear(fixed, t0 + minutes * MINUTE, minutes % 20 ? 12 : 7, "120a");
      await hear(back, t0 + minutes * MINUTE, 12, "120f");
    }
    expect(await pushed(fixed, 1)).toEqual(["020a12"]);
    expect(await pushed(back, 2)).toEqual(["020a12", "020f12"]);
    expect((await device(fixed)).keepalive).toMatchObject({ mode: "fixed", target: null, desired: 10, reason: "10 min: fixed, as set through the API" });
    expect((await device(back)).keepalive).toMatchObject({ mode: "fixed", target: null, desired: 15, reason: "15 min: fixed, as set through the API" });
  });

  it("refuses adapt that is not a boolean, minutes 0 with adapt, and force with adapt, sending nothing", async () => {
    const plug = newPlug();
    await hear(plug, clock + HOUR, 7);
    const before = tts.calls.length;
    const cases: [unknown, string][] = [
      [{ minutes: 10, adapt: "yes" }, 'body/adapt must be true or false, got "yes"'],
      [{ minutes: 10, adapt: 1 }, "body/adapt must be true or false, got 1"],
      [{ minutes: 10, adapt: "true" }, 'body/adapt must be true or false, got "true"'],
      [{ minutes: 10, adapt: null }, "body/adapt must be true or false, got null"],
      [{ minutes: 0, adapt: true }, "body/minutes: setKeepAlive: 0 is out of range; allowed 1..255 (minutes)"],
      [{ minutes: 256, adapt: true }, "body/minutes: setKeepAlive: 256 is out of range; allowed 1..255 (minutes)"],
      [{ adapt: true }, "body must have required property 'minutes'"],
      [{ minutes: 10, adapt: true, force: true }, 'body/force: not with "adapt": true (an adaptive period is never below what AIRTIME_POLICY allows)'],
    ];
    for (const [body, message] of cases) {
      expect(await app.api("PUT", `/devices/${plug.devEui}/keepalive`, body)).toMatchObject({ status: 400, body: { message } });
    }
    for (const body of [{ minutes: 10, adapt: "true", devices: [plug.devEui] }, { minutes: 0, adapt: true, devices: [plug.devEui] }, { minutes: 0, adapt: true, application: "energy-demo" }]) {
      expect((await app.api("PUT", "/keepalive", body)).status).toBe(400);
    }
    await app.app.keepalive.reconcile();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tts.calls.length).toBe(before);
    expect((await device(plug)).keepalive).toMatchObject({ mode: "fixed", desired: null, state: "unknown" });
    const { rows } = await app.db.query("SELECT count(*)::int AS n FROM keepalive_targets");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("measures the airtime of the uplinks sent in the last 24 hours, each by its own length, SF and bandwidth", async () => {
    const plug = newPlug();
    const now = Date.now();
    const sent = [
      { ago: 25 * HOUR, sf: 12, bw: 125_000, extra: "" }, // over a day ago: not counted
      { ago: 23 * HOUR, sf: 12, bw: 125_000, extra: "120a" },
      { ago: 12 * HOUR, sf: 9, bw: 125_000, extra: "04010201" },
      { ago: 2 * HOUR, sf: 8, bw: 500_000, extra: "" },
      { ago: 1 * HOUR, sf: 7, bw: 125_000, extra: "" },
    ];
    for (const s of sent) {
      const message = ttsUplink({ devEui: plug.devEui.toUpperCase(), payload: b64(s.extra + KEEP_ALIVE), time: new Date(now - s.ago).toISOString() });
      message.end_device_ids.device_id = plug.deviceId;
      message.uplink_message.settings.data_rate.lora.spreading_factor = s.sf;
      message.uplink_message.settings.data_rate.lora.bandwidth = s.bw;
      expect(await app.ingest("/ttn", message)).toBe(200);
    }
    // A simulated uplink is not sent by the plug: not counted.
    const simulated = ttsUplink({ devEui: plug.devEui.toUpperCase(), time: new Date(now - HOUR).toISOString(), simulated: true });
    simulated.end_device_ids.device_id = plug.deviceId;
    expect(await app.ingest("/ttn", simulated)).toBe(200);
    const expected = sent.slice(1).reduce((sum, s) => sum + timeOnAirMs(13 + s.extra.length / 2 + 12, s.sf, s.bw), 0) / 1000;
    // By hand (keepalive-airtime.md): 27 bytes at SF12, 50.25 symbols of 32.768 ms; 29 at SF9, 55.25 of 4.096 ms;
    // 25 at SF8, 500 kHz, 55.25 of 0.512 ms; 25 at SF7, 60.25 of 1.024 ms.
    expect(expected).toBeCloseTo((50.25 * 32.768 + 55.25 * 4.096 + 55.25 * 0.512 + 60.25 * 1.024) / 1000, 9);
    const measured = (await device(plug)).airtime.measuredSecondsLast24h;
    expect(measured).toBeCloseTo(expected, 9);
  });
});

describe.each(DATABASES)("KEEPALIVE_TARGET_MINUTES on %s", (_name, factory) => {
  let tts: TtsStandIn;
  let app: ApiApp;

  beforeAll(async () => {
    tts = await ttsStandIn();
    app = await startApiApp(factory, {
      airtimePolicy: "ttn-fair-use",
      downlinks: { tts: { apiUrl: tts.url, apiKey: "NNSXS.FLEET.0123456789", webhookId: "aspm16" } },
      keepalive: { intervalMs: 60 * MINUTE, fleetTarget: 15 },
    });
  });
  afterAll(async () => {
    await app?.close();
    await tts?.close();
  });

  async function hear(devEui: string, sf: number, application = "energy-demo"): Promise<void> {
    const message = ttsUplink({ devEui: devEui.toUpperCase(), time: new Date().toISOString() });
    message.end_device_ids.device_id = `plug-${devEui.slice(-4)}`;
    message.end_device_ids.application_ids.application_id = application;
    message.uplink_message.settings.data_rate.lora.spreading_factor = sf;
    expect(await app.ingest("/ttn", message)).toBe(200);
  }
  const pushes = (devEui: string) => tts.calls.filter((c) => c.path.includes(`/devices/plug-${devEui.slice(-4)}/`))
    .map((c) => Buffer.from(JSON.parse(c.body).downlinks[0].frm_payload as string, "base64").toString("hex"));

  it("puts a plug heard for the first time in adaptive mode with the fleet's target, at once and without an API call", async () => {
    await hear("70b3d52dd3240001", 9);
    await hear("70b3d52dd3240002", 12);
    // No pass is due for an hour: the uplinks themselves bring one on.
    expect(await until(() => pushes("70b3d52dd3240001").length === 1 && pushes("70b3d52dd3240001"), "the fleet target's push")).toEqual(["020f12"]);
    expect(await until(() => pushes("70b3d52dd3240002").length === 1 && pushes("70b3d52dd3240002"), "the SF12 plug's push")).toEqual(["024812"]);
    const near = (await app.api("GET", "/devices/70b3d52dd3240001")).body.keepalive;
    expect(near).toMatchObject({
      mode: "adaptive", target: 15, desired: 15, state: "pending",
      reason: "15 min: the target; at SF9, 125 kHz a keep-alive takes 205.8 ms, and TTN's fair use allows one every 9.88 min",
    });
    expect((await app.api("GET", "/devices/70b3d52dd3240002")).body.keepalive).toMatchObject({ mode: "adaptive", target: 15, desired: 72, reason: SF12_REASON });
    const { rows } = await app.db.query("SELECT cause, to_minutes FROM keepalive_changes WHERE dev_eui = '70b3d52dd3240001'");
    expect(rows).toEqual([{ cause: "fleet", to_minutes: 15 }]);
    // Heard again: nothing more to send.
    await hear("70b3d52dd3240001", 9);
    await app.app.keepalive.reconcile();
    expect(pushes("70b3d52dd3240001")).toHaveLength(1);
  });

  it("records the fleet target of a plug whose network has no downlink route as a failed round, naming the settings", async () => {
    const devEui = "70b3d52dd3240003";
    expect(await app.ingest("/chirpstack?event=up", chirpstackUplink({ devEui, time: new Date().toISOString() }))).toBe(200);
    await app.app.keepalive.reconcile();
    expect((await app.api("GET", `/devices/${devEui}`)).body.keepalive).toMatchObject({
      mode: "adaptive", target: 15, desired: 15, state: "failed", attempts: 0,
      error: expect.stringContaining("set CHIRPSTACK_API_URL and CHIRPSTACK_API_TOKEN"),
    });
    const { rows } = await app.db.query("SELECT count(*)::int AS n FROM downlinks WHERE dev_eui = $1", [devEui]);
    expect(rows).toEqual([{ n: 0 }]);
  });
});
