// npm run bench:codec [-- --vendor <file>] [--previous <file>] [--rounds N] — what the bundle costs where it runs, each figure beside
// the same figure measured in the same run for an empty script and for the plainest ES5 reader and writer:
// - CPU time of one call, the way the network servers call a formatter: QuickJS as ChirpStack v4 does (a new
//   runtime, the script evaluated inside ChirpStack's module wrapper), goja (The Things Stack) and otto
//   (ChirpStack v3) with a fresh runtime that evaluates the script first; for five calls: (i) a keep-alive,
//   (ii) a response + keep-alive, (iii) encodeDownlink {setKeepAlive: 15}, (iv) {setKeepAlive: 5}, which warns,
//   and (v) an object value, which our bundle leaves to its whole codec;
// - keep-alive decodes per second in a bare vm context;
// - the bundle's size.
// --vendor <file>: also the vendor's decoder + TTN v3 encoder, one file (not part of the project: copy both from
// MClimate's public docs). Its decoder's a0 case is ES2015 (let, template literals, shorthand properties), which
// goja and otto refuse to parse; the bench rewrites those lines in ES5, as a user of those engines must, and says so.
// The machine is shared and noisy: every round times every script and call once, figures are medians of the
// rounds, compare within the run.
import { parse } from "acorn";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { buildFormatter, BUDGET, FORMATTER_BUNDLE } from "../scripts/build-formatter";
import { benchInGoEngines, GO_ENGINES, goEnginesMissing } from "../test/support/engines";
import { hex } from "../test/support/hex";
import { type EntryPoint, runInQuickJS } from "../test/support/runtimes";

const KEEP_ALIVE = hex("01 1C 03 4A 24 18 05 D9 E7 19 52 01");

interface Call { label: string; fn: EntryPoint; input: object; right: (out: { data?: { power_W?: number }; bytes?: number[] }) => boolean }
const CALLS: Call[] = [
  { label: "(i) keep-alive", fn: "decodeUplink", input: { bytes: KEEP_ALIVE, fPort: 2 }, right: (out) => out.data?.power_W === 1497 },
  { label: "(ii) response + keep-alive 120F01…", fn: "decodeUplink", input: { bytes: [0x12, 0x0f, ...KEEP_ALIVE], fPort: 2 }, right: (out) => out.data?.power_W === 1497 },
  { label: "(iii) encode {setKeepAlive: 15}", fn: "encodeDownlink", input: { data: { setKeepAlive: 15 } }, right: (out) => out.bytes?.[1] === 15 },
  { label: "(iv) encode {setKeepAlive: 5}, warns", fn: "encodeDownlink", input: { data: { setKeepAlive: 5 } }, right: (out) => out.bytes?.[1] === 5 },
  // The calls left to the whole codec (an object value here; errors, warnings of uplinks, decodeDownlink): rarer.
  { label: "(v) encode an object: the whole codec", fn: "encodeDownlink", input: { data: { setOverheatingThresholds: { trigger: 60, recovery: 50 } } },
    right: (out) => out.bytes?.join() === "30,60,50" },
];

/** The least a keep-alive decoder and a downlink encoder can be: ES5, no table, no checks. */
const REFERENCE = `function decodeUplink(input) {
  var b = input.bytes, o = b.length - 12, data = {};
  if (o === 2 && b[0] === 18) data.keepAliveTime = b[1];
  var energy = b[o + 2] * 16777216 + b[o + 3] * 65536 + b[o + 4] * 256 + b[o + 5];
  data.internalTemperature = b[o + 1] > 128 ? 128 - b[o + 1] : b[o + 1] & 127;
  data.energy_kWh = energy / 1000; data.energy_Wh = energy;
  data.power_W = b[o + 6] * 256 + b[o + 7]; data.acVoltage_V = b[o + 8]; data.acCurrent_mA = b[o + 9] * 256 + b[o + 10];
  data.relayState = b[o + 11] ? "ON" : "OFF";
  return { data: data };
}
function encodeDownlink(input) { return { bytes: [2, input.data.setKeepAlive], fPort: 1 }; }`;
const EMPTY = "function decodeUplink(input) { return { data: {} }; }\nfunction encodeDownlink(input) { return { bytes: [], fPort: 1 }; }";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const isES5 = (source: string) => {
  try {
    parse(source, { ecmaVersion: 5, sourceType: "script" });
    return true;
  } catch {
    return false;
  }
};

/**
 * The vendor's codec as a user of goja or otto must write it: its decoder's a0 case declares with `let`, builds
 * strings with template literals and an object with shorthand properties. Each becomes its ES5 spelling; what was
 * rewritten is returned to be printed.
 */
function es5(source: string): { source: string; rewrites: string[] } {
  const rewrites: string[] = [];
  const count = (what: string, re: RegExp, to: (...m: string[]) => string) => {
    let n = 0;
    source = source.replace(re, (...m: string[]) => { n++; return to(...m); });
    if (n) rewrites.push(`${n} ${what}`);
  };
  count("let → var", /\blet\s/g, () => "var ");
  count("template literals → string concatenation", /`((?:\$\{[^}`]+\})+)`/g, (_, parts: string) =>
    `("" + ${[...parts.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]).join(" + ")})`);
  count("shorthand properties → name: name", /\{\s*(\w+(?:\s*,\s*\w+)+)\s*\}/g, (_, names: string) =>
    `{ ${names.split(/\s*,\s*/).map((n) => `${n}: ${n}`).join(", ")} }`);
  if (!isES5(source)) throw new Error("the vendor's file does not parse as ES5 even after the rewrite of its a0 case");
  return { source, rewrites };
}

const bundleSize = await buildFormatter();
const dir = mkdtempSync(join(tmpdir(), "bench-codec-"));
const scripts: { name: string; file: string; source: string }[] = [
  { name: "empty script", file: join(dir, "empty.js"), source: EMPTY },
  { name: "reference", file: join(dir, "reference.js"), source: REFERENCE },
  { name: "ours", file: FORMATTER_BUNDLE, source: readFileSync(FORMATTER_BUNDLE, "utf8") },
];
const vendorFile = option("--vendor");
let vendorNote = "no --vendor file given: compare with the reference reader";
if (vendorFile) {
  const vendor = es5(readFileSync(vendorFile, "utf8"));
  vendorNote = vendor.rewrites.length ? `vendor ES5: the vendor's codec with its a0 case rewritten in ES5 (${vendor.rewrites.join(", ")}), ` +
    "as goja and otto refuse it as published" : "vendor ES5: the vendor's codec as given (it parses as ES5)";
  scripts.push({ name: "vendor ES5", file: join(dir, "vendor.js"), source: vendor.source });
}
// --previous <file>: an earlier build of dist/formatter.js, timed beside this one.
const previous = option("--previous");
if (previous) scripts.push({ name: "previous", file: previous, source: readFileSync(previous, "utf8") });
for (const s of scripts) if (s.file.startsWith(dir)) writeFileSync(s.file, s.source);

// Every script must answer each call before its cost means anything.
for (const s of scripts.filter((s) => s.source !== EMPTY && s.source !== REFERENCE)) {
  for (const call of CALLS) {
    const out = (await runInQuickJS(s.source, call.fn, call.input)) as Parameters<Call["right"]>[0];
    if (!call.right(out)) throw new Error(`${s.name} does not answer ${call.label}: ${JSON.stringify(out)}`);
  }
}

const ROUNDS = Number(option("--rounds") ?? 15);
/** Calls per round and cell: QuickJS timed one by one, the Go engines as the median of a batch. */
const QUICKJS_CALLS = 8;
const GO_CALLS = 8;
const missing = goEnginesMissing();
const engines = ["QuickJS", ...(missing ? [] : GO_ENGINES)];
const key = (engine: string, call: Call, script: string) => `${engine}\u0000${call.label}\u0000${script}`;
const samples = new Map<string, number[]>();
const add = (k: string, v: number) => samples.set(k, [...(samples.get(k) ?? []), v]);

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (let round = 0; round < ROUNDS; round++) {
  for (const call of CALLS) {
    for (const s of scripts) {
      const times: number[] = [];
      for (let i = 0; i < QUICKJS_CALLS; i++) {
        const start = cpuMs();
        await runInQuickJS(s.source, call.fn, call.input);
        times.push(cpuMs() - start);
      }
      add(key("QuickJS", call, s.name), median(times));
      if (!missing) {
        const medians = benchInGoEngines(s.file, { fn: call.fn, args: [call.input] }, GO_CALLS);
        for (const engine of GO_ENGINES) add(key(engine, call, s.name), medians[engine]);
      }
    }
  }
  process.stderr.write(`\rround ${round + 1}/${ROUNDS}`);
}
process.stderr.write("\n");

console.log(`CPU milliseconds per call, each in a fresh runtime (QuickJS: ChirpStack v4's module wrapper; goja, otto: ` +
  `evaluate the script, then call), median of ${ROUNDS} interleaved rounds (each the median of ${QUICKJS_CALLS} calls)`);
if (missing) console.log(`goja and otto: skipped, ${missing}`);
console.log(vendorNote);
const names = scripts.map((s) => s.name);
const hasVendor = names.includes("vendor ES5");
for (const engine of engines) {
  console.log(`\n${engine.padEnd(40)}${names.map((n) => n.padStart(14)).join("")}${hasVendor ? "  ours/vendor" : "  ours/reference"}`);
  for (const call of CALLS) {
    const cells = names.map((n) => median(samples.get(key(engine, call, n))!));
    const ours = cells[names.indexOf("ours")];
    const against = cells[names.indexOf(hasVendor ? "vendor ES5" : "reference")];
    console.log(`  ${call.label.padEnd(38)}${cells.map((v) => v.toFixed(3).padStart(14)).join("")}${(ours / against).toFixed(2).padStart(13)}`);
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
const VM_CALLS = 200_000;
for (const c of contexts) c.loop(VM_CALLS); // warm up the JIT
const rates = new Map<string, number[]>(contexts.map((c) => [c.name, []]));
for (let round = 0; round < 7; round++) {
  for (const c of contexts) {
    const start = performance.now();
    c.loop(VM_CALLS);
    rates.get(c.name)!.push(VM_CALLS / ((performance.now() - start) / 1000));
  }
}
console.log(`\nvm context, keep-alive decodes per second (median of 7 rounds of 200,000): ` +
  [...rates].map(([name, values]) => `${name} ${(median(values) / 1e6).toFixed(2)} M/s`).join(", "));

console.log(`\nsizes: dist/formatter.js ${bundleSize} bytes (budget ${BUDGET}, TTS limit 40960)` +
  (vendorFile ? `, vendor ${statSync(vendorFile).size} bytes` : ""));
