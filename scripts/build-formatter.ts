// Bundles formatter/ into dist/formatter.js: one ES5 script whose top-level functions are the
// entry points TTS, ChirpStack and legacy platforms call.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const FORMATTER_BUNDLE = join(root, "dist", "formatter.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** The entry points: the contract's global functions (contract.md §1). */
export const ENTRY_POINTS = ["decodeUplink", "encodeDownlink", "decodeDownlink", "Decode", "Encode", "Decoder", "Encoder"] as const;

export const LIMIT = 40960;
/** The size this project holds the bundle to: every ChirpStack call parses it again. */
export const BUDGET = 8192;

const header = `/* MClimate 16ASPM codec ${pkg.version} (ES5.1) */`;

// The entry points are global variables holding closures: the code they call stays inside one
// function scope, with no global lookup on any call (globals are slow in vm contexts, and
// strict mode, as in ChirpStack's module, needs them declared).
const declarations = `var ${ENTRY_POINTS.join(",")};`;
const entry = `import { ${ENTRY_POINTS.map((name) => `${name} as _${name}`).join(", ")} } from "./formatter/index";
${ENTRY_POINTS.map((name) => `${name} = _${name};`).join("\n")}`;

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
    banner: { js: `${header}\n${declarations}` },
    outfile: FORMATTER_BUNDLE,
  });

  const size = statSync(FORMATTER_BUNDLE).size;
  if (size > LIMIT) throw new Error(`dist/formatter.js is ${size} bytes: over the ${LIMIT}-byte limit of The Things Stack`);
  return size;
}
