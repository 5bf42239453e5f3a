// The Go engines of the network servers (goja: The Things Stack; otto: ChirpStack v3), through
// test/engines/run.go. Its binary is built once per version of run.go and Go, with Debian's goja and
// otto sources (GO111MODULE=off), into the system's temporary directory.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type GoEngine = "goja" | "otto";
export const GO_ENGINES: GoEngine[] = ["goja", "otto"];

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SOURCE = join(root, "test", "engines", "run.go");
const GOPATH_DEBIAN = "/usr/share/gocode";
const SOURCES = ["github.com/dop251/goja", "github.com/robertkrimen/otto"];

/** Why the Go engines cannot run here, or "" when they can. */
export function goEnginesMissing(): string {
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error || go.status !== 0) return "no `go` on PATH (.ci/run installs golang-go)";
  const missing = SOURCES.filter((path) => !existsSync(join(GOPATH_DEBIAN, "src", path)));
  if (missing.length) return `Go sources missing under ${GOPATH_DEBIAN}: ${missing.join(", ")} (.ci/run installs golang-github-dop251-goja-dev and golang-github-robertkrimen-otto-dev)`;
  return "";
}

let binary: string | undefined;

/** The engines program, built on first use (about a minute with a cold Go cache, instant after). */
export function enginesBinary(): string {
  if (binary) return binary;
  const goVersion = execFileSync("go", ["version"], { encoding: "utf8" });
  const hash = createHash("sha256").update(readFileSync(SOURCE)).update(goVersion).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "aspm16-engines");
  const out = join(dir, `run-${hash}`);
  if (!existsSync(out)) {
    mkdirSync(join(dir, "gopath"), { recursive: true });
    execFileSync("go", ["build", "-o", out, SOURCE], {
      env: {
        ...process.env,
        GO111MODULE: "off",
        GOPATH: `${join(dir, "gopath")}:${GOPATH_DEBIAN}`,
        GOCACHE: process.env.GOCACHE ?? join(dir, "gocache"),
        GOFLAGS: "",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
  }
  binary = out;
  return out;
}

export interface EngineCall {
  fn: string;
  args: unknown[];
}

function request(body: object): Record<GoEngine, string[]> {
  const out = execFileSync(enginesBinary(), [], { input: JSON.stringify(body), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as Record<GoEngine, string[]>;
}

/** Each call in a fresh runtime of each engine that evaluated `scriptFile` first; results as parsed JSON. */
export function runInGoEngines(scriptFile: string, calls: EngineCall[], engines: GoEngine[] = GO_ENGINES): Record<GoEngine, unknown[]> {
  const answer = request({ mode: "run", script: scriptFile, engines, calls });
  const results = {} as Record<GoEngine, unknown[]>;
  for (const engine of engines) results[engine] = answer[engine].map((text) => JSON.parse(text));
  return results;
}

/**
 * Median CPU milliseconds of one call (fresh runtime, evaluate `scriptFile`, call), over `repeat` calls. Each engine
 * in a process of its own: after goja's calls in the same process, otto's figures hung on what goja had run (40
 * interleaved rounds: a script 12 % cheaper than another in otto alone measured 32 % dearer after goja).
 */
export function benchInGoEngines(scriptFile: string, call: EngineCall, repeat: number, engines: GoEngine[] = GO_ENGINES): Record<GoEngine, number> {
  const medians = {} as Record<GoEngine, number>;
  for (const engine of engines) {
    medians[engine] = Number(request({ mode: "bench", script: scriptFile, engines: [engine], calls: [call], repeat })[engine][0]) / 1e6;
  }
  return medians;
}
