// Bundles formatter/ into dist/formatter.js: one ES5 script whose top-level functions are the
// entry points TTS, ChirpStack and legacy platforms call.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const FORMATTER_BUNDLE = join(root, "dist", "formatter.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** The entry points, each a plain global function (the IIFE would hide them otherwise). */
export const ENTRY_POINTS = [
  ["decodeUplink", "input"],
  ["encodeDownlink", "input"],
  ["decodeDownlink", "input"],
  ["Decode", "fPort, bytes, variables"],
  ["Encode", "fPort, obj, variables"],
  ["Decoder", "bytes, port"],
  ["Encoder", "obj, port"],
] as const;

const GLOBAL = "MClimate16ASPM";
export const LIMIT = 40960;

const header = `/* MClimate 16ASPM codec ${pkg.version}: uplinks, downlinks and command responses.
 * Paste whole into The Things Stack (Payload formatters > Custom Javascript formatter, uplink and downlink)
 * or a ChirpStack v4 device profile (Codec > JavaScript functions); ChirpStack v3 and TTN v2 work too.
 * ECMAScript 5.1, no dependencies. Source and docs: formatter/ and README.md of the project. */`;

// The bundle sets this one global from inside its IIFE; the footer's functions forward to it.
const entry = `import { ${ENTRY_POINTS.map(([name]) => name).join(", ")} } from "./formatter/index";
${GLOBAL} = { ${ENTRY_POINTS.map(([name]) => `${name}: ${name}`).join(", ")} };`;

const footer = ENTRY_POINTS.map(
  ([name, args]) => `function ${name}(${args}) { return ${GLOBAL}.${name}(${args}); }`,
).join("\n");

/** Writes dist/formatter.js and returns its size in bytes. */
export async function buildFormatter(): Promise<number> {
  mkdirSync(dirname(FORMATTER_BUNDLE), { recursive: true });
  await build({
    stdin: {
      contents: entry,
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    target: "es5",
    platform: "neutral",
    minifySyntax: true,
    minifyWhitespace: true,
    minifyIdentifiers: true,
    legalComments: "none",
    banner: { js: `${header}\nvar ${GLOBAL};` },
    footer: { js: footer },
    outfile: FORMATTER_BUNDLE,
  });

  const size = statSync(FORMATTER_BUNDLE).size;
  if (size > LIMIT) throw new Error(`dist/formatter.js is ${size} bytes: over the ${LIMIT}-byte limit of The Things Stack`);
  return size;
}
