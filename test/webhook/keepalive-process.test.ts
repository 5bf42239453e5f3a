// Keep-alive management as a user runs it: the compiled service (build/main.js) configured by its environment
// alone (TTS_API_URL / TTS_API_KEY / TTS_WEBHOOK_ID, AIRTIME_POLICY, API_TOKENS), a TTS plug heard at SF12, and
// the stand-in TTS server receiving the push. On PostgreSQL when TEST_DATABASE_URL is set (a new embedded
// database costs the process half a minute of CPU on a busy machine), else on the embedded default.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN, ttsUplink } from "../support/messages";
import { type TtsStandIn, until } from "../support/network-apis";
import { type ServiceWithTts, startServiceWithTts } from "../support/service-process";

const API_TOKEN = "process-api-token-0123456789";
const TTS_KEY = "NNSXS.PROCESS.0123456789ABCDEF";

describe("keep-alive management in the service process", () => {
  let service: ServiceWithTts;
  let tts: TtsStandIn;
  let base: string;

  beforeAll(async () => {
    service = await startServiceWithTts(API_TOKEN, TTS_KEY, { AIRTIME_POLICY: "ttn-fair-use" });
    ({ tts, base } = service);
  }, 90_000);
  afterAll(() => service?.stop());

  const put = async (minutes: number) => {
    const answer = await fetch(`${base}/api/devices/70B3D52DD3040001/keepalive`, {
      method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ minutes }),
    });
    return { status: answer.status, body: await answer.json() as Record<string, any> };
  };

  it("says its airtime policy at start-up, refuses what TTN's fair use forbids at SF12, and pushes what it allows", async () => {
    await until(() => service.stdout().includes("AIRTIME_POLICY=ttn-fair-use"), "the start-up message");
    const uplink = ttsUplink({ devEui: "70B3D52DD3040001", time: new Date().toISOString() });
    uplink.end_device_ids.device_id = "plug-far";
    uplink.uplink_message.settings.data_rate.lora.spreading_factor = 12;
    const stored = await fetch(`${base}/ttn`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(uplink) });
    expect(stored.status).toBe(200);

    const refused = await put(30);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain("AIRTIME_POLICY=ttn-fair-use allows at SF12 at 125 kHz (1482.8 ms per keep-alive): 72 min");
    expect(tts.calls).toHaveLength(0);

    const accepted = await put(80);
    expect(accepted).toMatchObject({ status: 202, body: { downlink: { bytes: "025012", fPort: 1 }, warnings: [] } });
    const [push] = await until(() => tts.calls.length === 1 && tts.calls, "the push");
    expect(push.path).toBe("/api/v3/as/applications/energy-demo/webhooks/aspm16/devices/plug-far/down/push");
    expect(push.headers.authorization).toBe(`Bearer ${TTS_KEY}`);
    expect(JSON.parse(push.body).downlinks[0]).toMatchObject({ f_port: 1, frm_payload: Buffer.from("025012", "hex").toString("base64") });
  });
});
