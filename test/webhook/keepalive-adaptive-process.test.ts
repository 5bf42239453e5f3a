// Adaptive keep-alive as a user runs it: the compiled service (build/main.js, as `npm start` runs it) configured by
// its environment alone (KEEPALIVE_TARGET_MINUTES, AIRTIME_POLICY=ttn-fair-use, the TTS route), the stand-in TTS
// server receiving the pushes. A new plug takes the fleet's target without an API call; its move from SF7 to SF12
// pushes 02 48 12; a fixed plug is left alone. On PostgreSQL when TEST_DATABASE_URL is set, else on the embedded
// default.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN, ttsUplink } from "../support/messages";
import { type TtsStandIn, until } from "../support/network-apis";
import { type ServiceWithTts, startServiceWithTts } from "../support/service-process";

const API_TOKEN = "process-api-token-0123456789";
const KEEP_ALIVE = "011c034a241805d9e7195201";

describe("adaptive keep-alive in the service process", () => {
  let service: ServiceWithTts;
  let tts: TtsStandIn;
  let base: string;

  beforeAll(async () => {
    service = await startServiceWithTts(API_TOKEN, "NNSXS.PROCESS.ADAPTIVE.0123", { AIRTIME_POLICY: "ttn-fair-use", KEEPALIVE_TARGET_MINUTES: "10" });
    ({ tts, base } = service);
  }, 90_000);
  afterAll(() => service?.stop());

  async function hear(devEui: string, sf: number, extra = ""): Promise<void> {
    const uplink = ttsUplink({ devEui: devEui.toUpperCase(), payload: Buffer.from(extra + KEEP_ALIVE, "hex").toString("base64"), time: new Date().toISOString() });
    uplink.end_device_ids.device_id = `plug-${devEui.slice(-4)}`;
    uplink.uplink_message.settings.data_rate.lora.spreading_factor = sf;
    const answer = await fetch(`${base}/ttn`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(uplink) });
    expect(answer.status).toBe(200);
  }
  const api = async (method: string, path: string, body?: unknown) => {
    const answer = await fetch(`${base}/api${path}`, {
      method, headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: answer.status, body: await answer.json() as Record<string, any> };
  };
  const pushes = (devEui: string) => tts.calls.filter((c) => c.path.endsWith(`/devices/plug-${devEui.slice(-4)}/down/push`))
    .map((c) => Buffer.from(JSON.parse(c.body).downlinks[0].frm_payload as string, "base64").toString("hex"));
  const pushed = (devEui: string, count: number) => until(() => pushes(devEui).length >= count && pushes(devEui), `${count} pushes to ${devEui}`, 15_000);

  it("gives a new plug the fleet's target, pushes 02 48 12 when it moves to SF12, and leaves a fixed plug alone", async () => {
    await until(() => service.stdout().includes("KEEPALIVE_TARGET_MINUTES"), "the start-up message");
    expect(service.stdout()).toContain("adaptive, target 10 min (KEEPALIVE_TARGET_MINUTES)");
    const plug = "70b3d52dd3260001";
    const fixed = "70b3d52dd3260002";

    await hear(plug, 7);
    expect(await pushed(plug, 1)).toEqual(["020a12"]);
    expect((await api("GET", `/devices/${plug}`)).body.keepalive).toMatchObject({
      mode: "adaptive", target: 10, desired: 10, state: "pending",
      reason: "10 min: the target; at SF7, 125 kHz a keep-alive takes 61.7 ms, and TTN's fair use allows one every 2.96 min",
    });
    await hear(plug, 7, "120a");
    await hear(plug, 12);
    expect(await pushed(plug, 2)).toEqual(["020a12", "024812"]);
    const device = (await api("GET", `/devices/${plug}`)).body;
    expect(device.keepalive).toMatchObject({
      mode: "adaptive", target: 10, desired: 72, reported: 10, state: "pending",
      reason: "72 min: at SF12, 125 kHz a keep-alive takes 1482.8 ms; TTN's fair use allows one every 71.2 min",
    });
    // Three uplinks sent: 25 bytes at SF7, 27 at SF7 (with 12 0A), 25 at SF12.
    expect(device.airtime.measuredSecondsLast24h).toBeCloseTo((61.696 + 66.816 + 1482.752) / 1000, 6);

    // A fixed plug: adopted when first heard, then set to 30 min by hand; SF12 changes nothing.
    await hear(fixed, 7);
    expect(await pushed(fixed, 1)).toEqual(["020a12"]);
    expect(await api("PUT", `/devices/${fixed}/keepalive`, { minutes: 30, adapt: false })).toMatchObject({ status: 202, body: { downlink: { bytes: "021e12" } } });
    await hear(fixed, 12, "121e");
    await hear(fixed, 12);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // two passes after the uplinks
    expect(pushes(fixed)).toEqual(["020a12", "021e12"]);
    expect((await api("GET", `/devices/${fixed}`)).body.keepalive).toMatchObject({ mode: "fixed", target: null, desired: 30, reported: 30, state: "in_sync" });
    expect(pushes(plug)).toHaveLength(2);
  });
});
