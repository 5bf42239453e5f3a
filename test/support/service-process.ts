// The compiled service (build/main.js, as `npm start` runs it) configured by its environment alone, its TTS route
// pointed at a stand-in TTS server: on PostgreSQL when TEST_DATABASE_URL is set (a new embedded database costs the
// process half a minute of CPU on a busy machine), else on the embedded default.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshPostgres, type TestDatabase } from "./databases";
import { TOKEN } from "./messages";
import { type TtsStandIn, ttsStandIn } from "./network-apis";
import { startProgram, waitUntilOk } from "./process";

export interface ServiceWithTts {
  /** http://127.0.0.1:<port> */
  base: string;
  tts: TtsStandIn;
  /** What the process has written to stdout so far. */
  stdout(): string;
  /** Ends the process (SIGTERM), the stand-in, the database and the data directory. */
  stop(): Promise<void>;
}

/** Starts the service with WEBHOOK_TOKENS=TOKEN, the given API token and TTS key, and `env` besides; resolves once /healthz answers. */
export async function startServiceWithTts(apiToken: string, ttsKey: string, env: Record<string, string> = {}): Promise<ServiceWithTts> {
  const tts = await ttsStandIn();
  const dir = await mkdtemp(join(tmpdir(), "aspm16-service-"));
  let postgres: TestDatabase | undefined;
  let child: ChildProcess | undefined;
  let stdout = "";
  const stop = async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await tts.close();
    await postgres?.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (process.env.TEST_DATABASE_URL) postgres = await freshPostgres(process.env.TEST_DATABASE_URL);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const base = `http://127.0.0.1:${port}`;
    child = startProgram("main", {
      DATA_DIR: dir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", DATABASE_URL: postgres?.url ?? "",
      WEBHOOK_TOKENS: TOKEN, API_TOKENS: apiToken, TTS_API_URL: tts.url, TTS_API_KEY: ttsKey, TTS_WEBHOOK_ID: "aspm16",
      CHIRPSTACK_API_URL: "", CHIRPSTACK_API_TOKEN: "", ...env,
    });
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    await waitUntilOk(`${base}/healthz`, 60);
    return { base, tts, stdout: () => stdout, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
