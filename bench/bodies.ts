// The uplinks bench:ingest sends: TTS keep-alives of 5,000 distinct plugs, each uplink with its own
// message id, counter, time and energy, a function of its number n alone, so the do-nothing endpoint and
// the service get byte-identical bodies. EUIs are built as strings: numbers above 2^53 would collapse
// neighbouring plugs onto one.
import { keepAliveBytes } from "../test/support/keepalives";
import { ttsUplink } from "../test/support/messages";

export const PLUGS = 5000;
const EPOCH = Date.UTC(2026, 10, 1);
const PERIOD_MS = 10 * 60_000;

/** Plug n % PLUGS; its k-th uplink (k = n / PLUGS) comes one keep-alive period after its (k-1)-th. */
export function devEuiOf(n: number): string {
  return `70b3d52dd3${(n % PLUGS).toString(16).padStart(6, "0")}`;
}

// The body is a template with markers, filled per request: JSON.stringify of a whole message per request
// would make the load generator, not the server, the bottleneck.
const MARK = { dev: "DEV_EUI_MARK____", id: "ID_MARK", time: "TIME_MARK", payload: "PAYLOAD_MARK" };
const template = JSON.stringify(ttsUplink({ devEui: MARK.dev, id: MARK.id, fCnt: 424242, time: MARK.time, payload: MARK.payload }))
  .replace("424242", "FCNT_MARK").replace("plug-kitchen", "plug-PLUG_MARK");
const parts = template.split(/(DEV_EUI_MARK____|ID_MARK|TIME_MARK|PAYLOAD_MARK|FCNT_MARK|PLUG_MARK)/);

export function uplinkBody(n: number, tag: string): string {
  const plug = n % PLUGS;
  const k = Math.floor(n / PLUGS);
  const time = new Date(EPOCH + k * PERIOD_MS + plug * 100).toISOString();
  // 0..99 Wh per period, never decreasing: the in-order case rollups see most.
  const energyWh = k * 50 + (plug % 100);
  const payload = Buffer.from(keepAliveBytes({ time, energyWh, powerW: 300 + (n % 200), relayOn: true })).toString("base64");
  const values: Record<string, string> = {
    DEV_EUI_MARK____: devEuiOf(n), ID_MARK: `bench-${tag}-${n}`, TIME_MARK: time, PAYLOAD_MARK: payload, FCNT_MARK: String(k), PLUG_MARK: String(plug),
  };
  let body = "";
  for (const part of parts) body += values[part] ?? part;
  return body;
}
