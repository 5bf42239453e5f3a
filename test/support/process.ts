// A script of this project as its own process (node with tsx's loader, so a signal reaches the script
// itself, not an npx wrapper), and a wait for it to answer.
import { type ChildProcess, spawn } from "node:child_process";

export function startScript(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

/** Resolves once `url` answers 2xx; throws after `seconds`. */
export async function waitUntilOk(url: string, seconds = 20): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 2xx within ${seconds} s`);
}
