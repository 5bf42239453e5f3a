// npm run bench:codec — decode throughput of the codec, the cost of one ChirpStack-style call in
// QuickJS, and the bundle's size. Each figure is printed beside a baseline measured in the same run.
import { statSync } from "node:fs";
import { decodeUplink } from "../formatter/index";
import { buildFormatter, FORMATTER_BUNDLE } from "../scripts/build-formatter";
import { hex } from "../test/support/hex";
import { readBundle, runInQuickJS } from "../test/support/runtimes";

const KEEP_ALIVE = hex("01 1C 03 4A 24 18 05 D9 E7 19 52 01");
const RESPONSES_AND_KEEP_ALIVE = hex("12 0F 04 12 10 1D 02 0C 21 00 FA F5 01 1C 03 4A 24 18 05 D9 E7 19 52 01");

// Results are kept here so the JIT cannot drop calls whose results go unused.
const sink: unknown[] = new Array(1024);

/** Calls per second of `fn`, the best of five rounds of `ms` milliseconds. */
function rate(fn: () => unknown, ms = 400): number {
  let best = 0;
  for (let round = 0; round < 5; round++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 1000; i++) sink[i] = fn();
      calls += 1000;
      now = performance.now();
    }
    best = Math.max(best, calls / ((now - start) / 1000));
  }
  return best;
}

/** The least a keep-alive decoder can do: read the fields, no table, no checks. */
function bareKeepAlive(b: number[]) {
  return {
    internalTemperature: b[1] & 0x80 ? -(b[1] & 0x7f) : b[1],
    energy_Wh: b[2] * 16777216 + b[3] * 65536 + b[4] * 256 + b[5],
    power_W: b[6] * 256 + b[7],
    acVoltage_V: b[8],
    acCurrent_mA: b[9] * 256 + b[10],
    relayState: b[11] ? "ON" : "OFF",
  };
}

async function median(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

await buildFormatter();
const script = readBundle();
const baseline = rate(() => bareKeepAlive(KEEP_ALIVE));
const keepAlive = rate(() => decodeUplink({ bytes: KEEP_ALIVE, fPort: 2 }));
const mixed = rate(() => decodeUplink({ bytes: RESPONSES_AND_KEEP_ALIVE, fPort: 2 }));
console.log(`decodeUplink, keep-alive (12 bytes):                 ${fmt(keepAlive)} decodes/s`);
console.log(`decodeUplink, 4 responses + keep-alive (24 bytes):   ${fmt(mixed)} decodes/s`);
console.log(`baseline, bare keep-alive field reads (no table):    ${fmt(baseline)} decodes/s  (codec = ${(keepAlive / baseline).toFixed(2)}× baseline)`);

await runInQuickJS(script, "decodeUplink", { bytes: KEEP_ALIVE, fPort: 2 }); // loads the WebAssembly module once
const input = { bytes: KEEP_ALIVE, fPort: 2 };
const call = await median(() => runInQuickJS(script, "decodeUplink", input), 200);
const empty = await median(() => runInQuickJS("function decodeUplink() { return {}; }", "decodeUplink", input), 200);
console.log(`QuickJS, one ChirpStack-style call (new runtime, evaluate the script, decode): ${call.toFixed(3)} ms median of 200`);
console.log(`QuickJS, the same call with an empty script (baseline):                       ${empty.toFixed(3)} ms  (codec adds ${(call - empty).toFixed(3)} ms, ${(call / empty).toFixed(2)}×)`);
console.log(`dist/formatter.js: ${statSync(FORMATTER_BUNDLE).size} bytes (TTS limit 40960)`);
