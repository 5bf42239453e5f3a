// Runs dist/formatter.js the way the network servers do: in QuickJS as ChirpStack v4 wraps it,
// and in a bare vm context like the ES5 engines of TTS and ChirpStack v3.
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { getQuickJS, type QuickJSWASMModule } from "quickjs-emscripten";
import { FORMATTER_BUNDLE } from "../../scripts/build-formatter";

export function readBundle(): string {
  return readFileSync(FORMATTER_BUNDLE, "utf8");
}

export type EntryPoint = "decodeUplink" | "encodeDownlink" | "decodeDownlink";

/** The module ChirpStack v4 evaluates: its import line, the pasted script, its export line. */
export function chirpstackModule(script: string, fn: EntryPoint): string {
  return `import { Buffer } from "buffer";\n${script}\nexport default ${fn}(chirpstack_input);\n`;
}

let quickjs: QuickJSWASMModule | undefined;

/**
 * One ChirpStack-style call: a new runtime, the wrapped script evaluated as an ES module, the result read.
 * `buffer` is ChirpStack's built-in module; a stand-in export is enough, since the codec must not use it.
 */
export async function runInQuickJS(script: string, fn: EntryPoint, input: unknown): Promise<unknown> {
  quickjs ??= await getQuickJS();
  const runtime = quickjs.newRuntime();
  runtime.setModuleLoader((name) => (name === "buffer" ? "export var Buffer = {};" : { error: new Error(`no module ${name}`) }));
  const context = runtime.newContext();
  try {
    context.unwrapResult(context.evalCode(`globalThis.chirpstack_input = ${JSON.stringify(input)};`)).dispose();
    const exports = context.unwrapResult(context.evalCode(chirpstackModule(script, fn), "codec.mjs", { type: "module" }));
    const result = context.getProp(exports, "default");
    const value = context.dump(result);
    result.dispose();
    exports.dispose();
    return JSON.parse(JSON.stringify(value));
  } finally {
    context.dispose();
    runtime.dispose();
  }
}

// What ECMAScript 2015 and later added to the global library: an ES5.1 engine has none of it.
const ES2015_GLOBALS = ["Symbol", "Map", "Set", "WeakMap", "WeakSet", "Promise", "Proxy", "Reflect", "Uint8Array", "ArrayBuffer", "BigInt"];
const ES2015_STATICS: [string, string[]][] = [
  ["Object", ["assign", "entries", "values", "fromEntries", "is", "getOwnPropertySymbols"]],
  ["Array", ["from", "of"]],
  ["Number", ["isInteger", "isFinite", "isNaN", "isSafeInteger", "parseFloat", "parseInt", "EPSILON"]],
  ["Math", ["trunc", "sign", "log2", "log10", "hypot", "clz32", "fround", "imul", "cbrt"]],
  ["String", ["fromCodePoint", "raw"]],
];
const ES2015_METHODS: [string, string[]][] = [
  ["Array", ["includes", "find", "findIndex", "fill", "keys", "values", "entries", "flat", "flatMap", "at", "copyWithin"]],
  ["String", ["includes", "startsWith", "endsWith", "padStart", "padEnd", "repeat", "codePointAt", "trimStart", "trimEnd", "at", "normalize"]],
];

/** A vm context with no require, module or exports and, if asked, without the ES2015+ library. */
export function bareContext(es5Library: boolean): vm.Context {
  const context = vm.createContext({});
  if (es5Library) {
    vm.runInContext(
      `(function (globals, statics, methods) {
        globals.forEach(function (n) { delete globalThis[n]; });
        statics.forEach(function (s) { s[1].forEach(function (n) { delete globalThis[s[0]][n]; }); });
        methods.forEach(function (m) { m[1].forEach(function (n) { delete globalThis[m[0]].prototype[n]; }); });
      })(${JSON.stringify(ES2015_GLOBALS)}, ${JSON.stringify(ES2015_STATICS)}, ${JSON.stringify(ES2015_METHODS)});`,
      context,
    );
  }
  return context;
}

/** Evaluates the bundle as a classic script in `context` and calls `fn` there; the result comes back as JSON. */
export function runInContext(context: vm.Context, script: string, call: string, args: unknown[]): unknown {
  vm.runInContext(script, context);
  const text = vm.runInContext(`JSON.stringify(${call}.apply(null, ${JSON.stringify(args)}))`, context) as string;
  return JSON.parse(text);
}
