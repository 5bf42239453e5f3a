// Bundles formatter/ into dist/formatter.js: one ES5 script whose top-level functions are the
// entry points TTS, ChirpStack and legacy platforms call.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { pack } from "./pack";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const FORMATTER_BUNDLE = join(root, "dist", "formatter.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** The entry points: the contract's global functions (contract.md §1). */
export const ENTRY_POINTS = ["decodeUplink", "encodeDownlink", "decodeDownlink", "Decode", "Encode", "Decoder", "Encoder"] as const;

export const LIMIT = 40960;
/** The size this project holds the bundle to: every ChirpStack call parses it again. */
export const BUDGET = 8192;

// The packed text is the codec too: say where the readable source is.
const header = `/* MClimate 16ASPM codec ${pkg.version}, built from formatter/*.ts; the quoted text is the rest of it, packed (formatter/script.ts) */`;

// The entry points are global variables holding closures: the code they call stays inside one
// function scope, with no global lookup on any call (globals are slow in vm contexts, and
// strict mode, as in ChirpStack's module, needs them declared).
const declarations = `var ${ENTRY_POINTS.join(",")};`;
const entry = `import { ${ENTRY_POINTS.map((name) => `${name} as _${name}`).join(", ")} } from "./formatter/script";
${ENTRY_POINTS.map((name) => `${name} = _${name};`).join("\n")}`;

// The rest of the codec, compiled by formatter/script.ts on first need: the whole codec, every entry point
// set on the object the script hands it as `$exports`.
const restEntry = `import { ${ENTRY_POINTS.join(", ")} } from "./formatter/index";
${ENTRY_POINTS.map((name) => `$exports.${name} = ${name};`).join("\n")}`;

const common = {
  bundle: true,
  format: "iife",
  target: "es5",
  platform: "neutral",
  minifySyntax: true,
  minifyWhitespace: true,
  minifyIdentifiers: true,
  legalComments: "none",
} as const;

async function buildRest(): Promise<string> {
  const result = await build({ ...common, stdin: { contents: restEntry, resolveDir: root, loader: "ts" }, write: false });
  return result.outputFiles[0].text.trim();
}

/**
 * Words in the packing's table. Each costs the call that compiles the rest one more split/join over the whole
 * text; 80 hold the bundle in its budget with room to grow (all ~175 words worth one would save 290 bytes more).
 */
const PACKED_WORDS = 80;

/** Writes dist/formatter.js and returns its size in bytes. */
export async function buildFormatter(): Promise<number> {
  mkdirSync(dirname(FORMATTER_BUNDLE), { recursive: true });
  const packed = pack(await buildRest(), PACKED_WORDS);
  await build({
    ...common,
    stdin: { contents: entry, resolveDir: root, loader: "ts" },
    define: { PACKED_CODEC: JSON.stringify(packed.text), PACKED_WORDS: JSON.stringify(packed.words) },
    banner: { js: `${header}\n${declarations}` },
    outfile: FORMATTER_BUNDLE,
  });

  const size = statSync(FORMATTER_BUNDLE).size;
  if (size > LIMIT) throw new Error(`dist/formatter.js is ${size} bytes: over the ${LIMIT}-byte limit of The Things Stack`);
  return size;
}
