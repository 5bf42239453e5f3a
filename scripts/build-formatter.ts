// Bundles formatter/ into dist/formatter.js: one ES5 script whose top-level functions are the
// entry points TTS, ChirpStack and legacy platforms call.
import { parse } from "acorn";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { plainDownlinkTable } from "../formatter/plain-downlink";
import { plainUplinkTable } from "../formatter/plain-uplink";
import { pack } from "./pack";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const FORMATTER_BUNDLE = join(root, "dist", "formatter.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** The entry points: the contract's global functions (contract.md §1). */
export const ENTRY_POINTS = ["decodeUplink", "encodeDownlink", "decodeDownlink", "Decode", "Encode", "Decoder", "Encoder"] as const;

export const LIMIT = 40960;
/** The size this project holds the bundle to: every ChirpStack call parses it again. */
export const BUDGET = 16384;

// The quoted texts are the codec too: say where the readable source is.
const header = `/* MClimate 16ASPM codec ${pkg.version}, built from formatter/*.ts; the quoted texts are the rest of it (formatter/script.ts) */`;

// The entry points are global variables holding closures: the code they call stays inside one
// function scope, with no global lookup on any call (globals are slow in vm contexts, and
// strict mode, as in ChirpStack's module, needs them declared).
const declarations = `var ${ENTRY_POINTS.join(",")};`;
const entry = `import { ${ENTRY_POINTS.map((name) => `${name} as _${name}`).join(", ")} } from "./formatter/script";
${ENTRY_POINTS.map((name) => `${name} = _${name};`).join("\n")}`;

/** The texts formatter/script.ts compiles on first need, each a script that sets functions on `$exports`. */
const LAZY = {
  /** The whole codec: the entry points script.ts does not build on others (legacy.ts's Decoder, Encode, Encoder). */
  CODEC: `import { decodeUplink, encodeDownlink, decodeDownlink, Decode } from "./formatter/index";
$exports.decodeUplink = decodeUplink; $exports.encodeDownlink = encodeDownlink; $exports.decodeDownlink = decodeDownlink; $exports.Decode = Decode;`,
  /** What restores the whole codec's text from its packing (scripts/pack.ts). */
  UNPACK: `import { unpack } from "./formatter/unpack";
$exports.unpack = unpack;`,
  SET_KEEP_ALIVE: `import { plainSetKeepAlive } from "./formatter/downlink";
$exports.plainSetKeepAlive = plainSetKeepAlive;`,
  PLAIN_UPLINK: `import { plainUplink } from "./formatter/plain-uplink";
$exports.plainUplink = function (input, keepAlive) { return plainUplink(input, keepAlive, TABLE); };`,
  PLAIN_DOWNLINK: `import { plainDownlink } from "./formatter/plain-downlink";
$exports.plainDownlink = function (input) { return plainDownlink(input, TABLE); };`,
};
const TABLES: Partial<Record<keyof typeof LAZY, string>> = { PLAIN_UPLINK: plainUplinkTable(), PLAIN_DOWNLINK: plainDownlinkTable() };

// No minifySyntax: it writes true and false as !0 and !1. Every part is compiled per call, and goja builds a
// whole runtime to fold the first constant expression of a compiled unit (77 µs against 5.6 for a one-line
// function); esbuild's void 0 is written back as undefined, and constantExpressions finds any left.
const common = {
  bundle: true,
  format: "iife",
  target: "es5",
  platform: "neutral",
  minifyWhitespace: true,
  minifyIdentifiers: true,
  legalComments: "none",
  charset: "ascii",
} as const;

const withoutVoid = (text: string) => text.replace(/\bvoid 0\b/g, "undefined");

/**
 * esbuild's `(function(){…})();` written `!function(){…}();`. At a parenthesis that opens an expression, QuickJS
 * reads ahead to its closing one for a `=>` (js_parse_skip_parens_token), then parses it all again: with the
 * parenthesis, every call tokenized the whole script, its quoted texts included, twice.
 */
function withoutParentheses(text: string): string {
  const [open, close] = ["(function(){", "})();"];
  if (!text.startsWith(open) || !text.endsWith(close)) throw new Error(`esbuild's output is not one (function(){…})(); : ${text.slice(0, 40)}…`);
  return `!function(){${text.slice(open.length, -close.length)}}();`;
}

type Node = { type: string; start: number; end: number; [key: string]: unknown };

/** Expressions made of literals only, but the literals themselves: what goja folds at compile time. */
export function constantExpressions(source: string): string[] {
  const found: string[] = [];
  const constant = (node: Node): boolean => {
    switch (node.type) {
      case "Literal": return true;
      case "UnaryExpression": return constant(node.argument as Node);
      case "BinaryExpression": case "LogicalExpression": return constant(node.left as Node) && constant(node.right as Node);
      case "ConditionalExpression": return constant(node.test as Node) && constant(node.consequent as Node) && constant(node.alternate as Node);
      default: return false;
    }
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof (node as Node).type !== "string") return;
    const n = node as Node;
    if (n.type !== "Literal" && constant(n)) found.push(source.slice(n.start, n.end));
    else for (const key of Object.keys(n)) if (typeof n[key] === "object") walk(n[key]);
  };
  walk(parse(source, { ecmaVersion: 5, sourceType: "script", allowReturnOutsideFunction: true }));
  return found;
}

/**
 * Words in the whole codec's packing: each saves bytes that every call parses (a KB costs QuickJS about 0.016 ms)
 * and costs the calls that need the whole codec a split/join over its text (about 0.04 ms in goja and otto).
 */
const PACKED_WORDS = 30;

async function buildLazy(name: keyof typeof LAZY): Promise<string> {
  const table = TABLES[name];
  const result = await build({
    ...common,
    stdin: { contents: LAZY[name], resolveDir: root, loader: "ts" },
    define: table === undefined ? {} : { TABLE: JSON.stringify(table) },
    write: false,
  });
  const text = withoutParentheses(withoutVoid(result.outputFiles![0].text.trim()));
  const folded = constantExpressions(text);
  if (folded.length) throw new Error(`the ${name} text holds constant expressions goja folds at compile time: ${folded.join(", ")}`);
  return text;
}

/** Writes dist/formatter.js and returns its size in bytes. */
export async function buildFormatter(): Promise<number> {
  mkdirSync(dirname(FORMATTER_BUNDLE), { recursive: true });
  const define: Record<string, string> = {};
  for (const name of ["UNPACK", "SET_KEEP_ALIVE", "PLAIN_UPLINK", "PLAIN_DOWNLINK"] as const) define[name] = JSON.stringify(await buildLazy(name));
  // The script carries the whole codec packed.
  const packed = pack(await buildLazy("CODEC"), PACKED_WORDS);
  define.CODEC = JSON.stringify(packed.text);
  define.WORDS = JSON.stringify(packed.words);
  const result = await build({
    ...common,
    stdin: { contents: entry, resolveDir: root, loader: "ts" },
    define,
    write: false,
  });
  const script = `${header}\n${declarations}\n${withoutParentheses(withoutVoid(result.outputFiles![0].text.trim()))}\n`;
  const folded = constantExpressions(script);
  if (folded.length) throw new Error(`dist/formatter.js holds constant expressions goja folds at compile time: ${folded.join(", ")}`);
  writeFileSync(FORMATTER_BUNDLE, script);

  const size = statSync(FORMATTER_BUNDLE).size;
  if (size > LIMIT) throw new Error(`dist/formatter.js is ${size} bytes: over the ${LIMIT}-byte limit of The Things Stack`);
  return size;
}
