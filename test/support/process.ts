// Programs of this project as their own processes, and waits for them to answer or end.
import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { once } from "node:events";

/** A TypeScript script under node with tsx's loader (so a signal reaches the script itself, not an npx wrapper). */
export function startScript(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

/** A compiled program of build/ (made by npm run build and the tests' global setup), as production runs it. */
export function startProgram(name: "main" | "migrate" | "copy" | "codec", env: Record<string, string>, stdio: StdioOptions = ["ignore", "pipe", "pipe"]): ChildProcess {
  return spawn(process.execPath, [`build/${name}.js`], { env: { ...process.env, ...env }, stdio });
}

/** Everything a process writes until it exits, and how it exited. */
export async function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const [code, signal] = child.exitCode !== null ? [child.exitCode, child.signalCode] : await once(child, "exit") as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** Resolves once `url` answers 2xx; throws after `seconds`. */
export async function waitUntilOk(url: string, seconds = 20): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 2xx within ${seconds} s`);
}
