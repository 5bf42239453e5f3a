// npm run bench:codec [-- --vendor <file>] — what the bundle costs where it runs, each figure beside the
// same figure, measured in the same run, for an empty script and for the plainest ES5 keep-alive reader:
// - QuickJS, ChirpStack v4 style: a new runtime, the script evaluated as ChirpStack wraps it, one uplink decoded
//   (a lone keep-alive, and a response before its keep-alive: the call where the rest of the codec is compiled);
// - goja (The Things Stack) and otto (ChirpStack v3): a fresh runtime per call that evaluates the script first;
// - decodes per second in a bare vm context;
// - the bundle's size.
// --vendor <file>: also the vendor's decoder + encoder (not part of the project; fetch it from its public docs).
// The machine is shared and noisy: runs are interleaved round by round, figures are medians, compare ratios.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { buildFormatter, BUDGET, FORMATTER_BUNDLE } from "../scripts/build-formatter";
import { benchInGoEngines, GO_ENGINES, goEnginesMissing } from "../test/support/engines";
import { hex } from "../test/support/hex";
import { runInQuickJS } from "../test/support/runtimes";

const KEEP_ALIVE = hex("01 1C 03 4A 24 18 05 D9 E7 19 52 01");
const INPUT = { bytes: KEEP_ALIVE, fPort: 2 };
/** The uplinks timed in each engine: nearly all are the first; the second (a response before its keep-alive,
 *  as the plug sends after a downlink) is where dist/formatter.js compiles the rest of its codec. */
const UPLINKS: [string, typeof INPUT][] = [
  ["decode a keep-alive", INPUT],
  ["decode a response + keep-alive (12 0F 01 …)", { bytes: [0x12, 0x0f, ...KEEP_ALIVE], fPort: 2 }],
];

/** The least a keep-alive decoder can be: ES5, no table, no checks. */
const REFERENCE = `function decodeUplink(input) {
  var b = input.bytes;
  var energy = b[2] * 16777216 + b[3] * 65536 + b[4] * 256 + b[5];
  return { data: {
    internalTemperature: b[1] > 128 ? 128 - b[1] : b[1] & 127,
    energy_kWh: energy / 1000, energy_Wh: energy,
    power_W: b[6] * 256 + b[7], acVoltage_V: b[8], acCurrent_mA: b[9] * 256 + b[10],
    relayState: b[11] ? "ON" : "OFF"
  } };
}`;
const EMPTY = "function decodeUplink(input) { return { data: {} }; }";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const bundleSize = await buildFormatter();
const dir = mkdtempSync(join(tmpdir(), "bench-codec-"));
const scripts: { name: string; file: string; source: string }[] = [
  { name: "empty script", file: join(dir, "empty.js"), source: EMPTY },
  { name: "reference reader", file: join(dir, "reference.js"), source: REFERENCE },
  { name: "dist/formatter.js", file: FORMATTER_BUNDLE, source: readFileSync(FORMATTER_BUNDLE, "utf8") },
];
const vendor = option("--vendor");
if (vendor) scripts.push({ name: "vendor", file: vendor, source: readFileSync(vendor, "utf8") });
for (const s of scripts) if (s.file.startsWith(dir)) writeFileSync(s.file, s.source);

// Every script must decode the keep-alive before its cost means anything.
for (const s of scripts) {
  const out = (await runInQuickJS(s.source, "decodeUplink", INPUT)) as { data: Record<string, unknown> };
  if (s.source !== EMPTY && out.data.power_W !== 1497) throw new Error(`${s.name} does not decode the keep-alive: ${JSON.stringify(out)}`);
}

const ms = (n: number) => `${n.toFixed(3)} ms`;
const rate = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;

function table(title: string, unit: (n: number) => string, values: Map<string, number>, better: "lower" | "higher"): void {
  console.log(`\n${title}`);
  const empty = values.get("empty script") as number;
  const reference = values.get("reference reader") as number;
  for (const [name, value] of values) {
    const vsEmpty = better === "lower" ? `+${ms(value - empty)} over empty` : `${(value / empty).toFixed(2)}× empty`;
    console.log(`  ${name.padEnd(20)} ${unit(value).padStart(12)}   ${vsEmpty.padEnd(24)} ${(value / reference).toFixed(2)}× reference`);
  }
}

// QuickJS, ChirpStack v4 style, rounds interleaved so that every script sees the same noise.
const QUICKJS_ROUNDS = 300;
for (const [what, input] of UPLINKS) {
  const quickjs = new Map<string, number[]>(scripts.map((s) => [s.name, []]));
  for (let round = 0; round < QUICKJS_ROUNDS; round++) {
    for (const s of scripts) {
      const start = performance.now();
      await runInQuickJS(s.source, "decodeUplink", input);
      quickjs.get(s.name)!.push(performance.now() - start);
    }
  }
  table(`QuickJS, one ChirpStack v4 call (new runtime, evaluate the wrapped module, ${what}), median of ${QUICKJS_ROUNDS}`,
    ms, new Map([...quickjs].map(([name, times]) => [name, median(times)])), "lower");
}

// goja and otto, a fresh runtime per call, as The Things Stack and ChirpStack v3 run a formatter.
const missing = goEnginesMissing();
if (missing) console.log(`\ngoja and otto: skipped, ${missing}`);
else {
  const GO_ROUNDS = 5;
  for (const [what, input] of UPLINKS) {
    const go = new Map<string, number[]>();
    for (let round = 0; round < GO_ROUNDS; round++) {
      for (const s of scripts) {
        const medians = benchInGoEngines(s.file, { fn: "decodeUplink", args: [input] }, 40);
        for (const engine of GO_ENGINES) {
          const key = `${engine}\u0000${s.name}`;
          go.set(key, [...(go.get(key) ?? []), medians[engine]]);
        }
      }
    }
    for (const engine of GO_ENGINES) {
      table(`${engine}, one call in a fresh runtime (evaluate the script, ${what}), median of ${GO_ROUNDS} × 40`,
        ms, new Map(scripts.map((s) => [s.name, median(go.get(`${engine}\u0000${s.name}`)!)])), "lower");
    }
  }
}

// A bare vm context: keep-alive decodes per second, once evaluated.
const contexts = scripts.map((s) => {
  const context = vm.createContext({});
  vm.runInContext(s.source, context);
  vm.runInContext(`var __input = { bytes: ${JSON.stringify(KEEP_ALIVE)}, fPort: 2 };
    function __loop(n) { var out; for (var i = 0; i < n; i++) out = decodeUplink(__input); return out; }`, context);
  return { name: s.name, loop: vm.runInContext("__loop", context) as (n: number) => unknown };
});
const CALLS = 200_000;
for (const c of contexts) c.loop(CALLS); // warm up the JIT
const rates = new Map<string, number[]>(contexts.map((c) => [c.name, []]));
for (let round = 0; round < 7; round++) {
  for (const c of contexts) {
    const start = performance.now();
    c.loop(CALLS);
    rates.get(c.name)!.push(CALLS / ((performance.now() - start) / 1000));
  }
}
table("vm context, keep-alive decodes per second (median of 7 rounds of 200,000)", rate,
  new Map([...rates].map(([name, values]) => [name, median(values)])), "higher");

console.log(`\nsizes: dist/formatter.js ${bundleSize} bytes (budget ${BUDGET}, TTS limit 40960)` +
  (vendor ? `, vendor ${statSync(vendor).size} bytes` : ""));
