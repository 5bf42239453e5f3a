// Downlinks through The Things Stack's webhook queue (contract §4): POST …/webhooks/{id}/devices/{device}/down/push.
// The route is configured (TTS_API_URL, TTS_API_KEY, TTS_WEBHOOK_ID), or learnt from the X-Downlink-Push and
// X-Downlink-Apikey headers TTS adds to webhook calls when the webhook has a downlink API key. Learnt keys are
// kept in memory only: never stored, logged or returned.
import { randomUUID } from "node:crypto";
import { type Delivery, type NetworkRoute, PushError, redact, type Target } from "./delivery";

export interface TtsSettings {
  /** The server, e.g. https://eu1.cloud.thethings.network (no /api/v3). */
  apiUrl: string;
  apiKey: string;
  webhookId: string;
}

/** Correlation ids this service sends start with this; the downlink events carry them back. */
export const TTS_CORRELATION_PREFIX = "aspm16:downlink:";

interface Learnt {
  /** A push URL TTS gave for one device of the application, and that device's id. */
  pushUrl: string;
  deviceId: string;
  apiKey: string;
}

const PUSH_SUFFIX = /\/devices\/([^/]+)\/down\/push$/;

export class TtsRoute implements NetworkRoute {
  readonly network = "ttn" as const;
  private readonly learnt = new Map<string, Learnt>();

  constructor(
    private readonly settings: TtsSettings | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Keeps what a webhook call's X-Downlink-Push / X-Downlink-Apikey headers say, per application. */
  learn(application: string, pushUrl: string, apiKey: string): void {
    if (this.settings || !apiKey) return;
    let url: URL;
    try {
      url = new URL(pushUrl);
    } catch {
      return;
    }
    const match = url.pathname.match(PUSH_SUFFIX);
    if (!match || (url.protocol !== "https:" && url.protocol !== "http:")) return;
    this.learnt.set(application, { pushUrl, deviceId: decodeURIComponent(match[1]), apiKey });
  }

  unavailable(target: Target): string | undefined {
    const how = "set TTS_API_URL, TTS_API_KEY and TTS_WEBHOOK_ID, or give the TTS webhook a downlink API key (its calls then carry X-Downlink-Push and X-Downlink-Apikey)";
    if (!target.deviceId || !target.application) {
      return `device ${target.devEui} has no TTS device id and application id on record yet; they come with its next uplink`;
    }
    if (this.settings || this.learnt.has(target.application)) return undefined;
    return `device ${target.devEui} is on The Things Stack, which has no downlink route: ${how}`;
  }

  reference(): string {
    return `${TTS_CORRELATION_PREFIX}${randomUUID()}`;
  }

  /** Where to push for `target` and with which key, or why there is no route. */
  private endpoint(target: Target): { url: string; apiKey: string } | string {
    const missing = this.unavailable(target);
    if (missing) return missing;
    const device = encodeURIComponent(target.deviceId!);
    const application = encodeURIComponent(target.application!);
    if (this.settings) {
      const { apiUrl, apiKey, webhookId } = this.settings;
      return { url: `${apiUrl}/api/v3/as/applications/${application}/webhooks/${encodeURIComponent(webhookId)}/devices/${device}/down/push`, apiKey };
    }
    const learnt = this.learnt.get(target.application!)!;
    return { url: learnt.pushUrl.replace(PUSH_SUFFIX, `/devices/${device}/down/push`), apiKey: learnt.apiKey };
  }

  async push(target: Target, delivery: Delivery): Promise<string | null> {
    const endpoint = this.endpoint(target);
    if (typeof endpoint === "string") throw new PushError(endpoint);
    const { url, apiKey } = endpoint;
    const body = JSON.stringify({
      downlinks: [{
        f_port: delivery.fPort,
        frm_payload: Buffer.from(delivery.bytes).toString("base64"),
        priority: "NORMAL",
        confirmed: delivery.confirmed,
        ...(delivery.ref ? { correlation_ids: [delivery.ref] } : {}),
      }],
    });
    const where = new URL(url).origin;
    let answer: Response;
    try {
      answer = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "user-agent": "aspm16-webhook" },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = (error as Error).name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : cause?.code ?? cause?.message ?? (error as Error).message;
      throw new PushError(redact(`The Things Stack at ${where} is unreachable: ${reason}`, [apiKey]));
    }
    const text = await answer.text().catch(() => "");
    if (!answer.ok) {
      throw new PushError(redact(`The Things Stack at ${where} refused the downlink: ${answer.status} ${answer.statusText}${text ? `: ${text.slice(0, 300)}` : ""}`, [apiKey]));
    }
    return delivery.ref;
  }

  close(): void {}
}
