// The top of dist/formatter.js: what a network server compiles on every call. ChirpStack v4 evaluates the
// pasted script in a new QuickJS runtime for each uplink, TTS and ChirpStack v3 do the same in goja and otto,
// and these engines compile every function of a script before running any: compiled code costs a call about
// 0.2 ms a KB in QuickJS and 0.14 in otto (6–8 µs a function), a string literal 0.025 in QuickJS and 0.01 in
// goja and otto (npm run bench:codec). So the script compiles only the straight path of nearly every uplink (a
// keep-alive, alone or after 12 NN) and one-line entry points. The rest travels as text, compiled by Function()
// on the first call that needs it: the straight path of the downlink the service sends most ({setKeepAlive:
// 10..255}, downlink.ts); per direction, a small reader or writer of the common calls (plain-uplink.ts: responses
// before a keep-alive; plain-downlink.ts: GETs, actions, SETs of one number); and the whole codec, formatter/*.ts
// built on its own and packed (scripts/pack.ts, unpack.ts), for everything else (warnings a reading is worth,
// errors, object or scaled values, custom hex, decodeDownlink). A straight path or a first tier answers as the
// whole codec does, or leaves the call to the next.
import { INTERNAL_ERROR } from "./bytes";
import type { DecodeDownlinkOutput, EncodeOutput } from "./downlink";
import { type Fields, keepAlive } from "./uplink-messages";
import { plainKeepAlive, type UplinkInput, type UplinkOutput } from "./uplink";

// Put here by scripts/build-formatter.ts: scripts that set their functions on the object `$exports`.
/** The whole codec, packed (scripts/pack.ts): it sets every entry point. */
declare var CODEC: string;
/** The word table of its packing. */
declare var WORDS: string;
/** unpack.ts: unpack(text, words). */
declare var UNPACK: string;
/** downlink.ts: plainSetKeepAlive(input). */
declare var SET_KEEP_ALIVE: string;
/** plain-uplink.ts: plainUplink(input, keepAlive), its table inside. */
declare var PLAIN_UPLINK: string;
/** plain-downlink.ts: plainDownlink(input), its table inside. */
declare var PLAIN_DOWNLINK: string;

// Each text once in the script (esbuild writes a defined value wherever it is named).
var WHOLE = CODEC;
var WHOLE_WORDS = WORDS;
var UNPACKER = UNPACK;
var SETTER = SET_KEEP_ALIVE;
var UPLINKS = PLAIN_UPLINK;
var DOWNLINKS = PLAIN_DOWNLINK;

// What the texts set: the whole codec's entry points, unpack, plainSetKeepAlive, plainUplink and plainDownlink.
var loaded: { [name: string]: (...args: never[]) => never } = {};

/**
 * The function `name` that `text` sets on `$exports`, compiled by the first call that needs it. Where the engine
 * refuses to compile strings, the downlink's straight path and the first tiers answer undefined (the whole codec is
 * asked next) and the whole codec (`whole`: `text` is packed) answers with the reason as its error; only the
 * keep-alive's straight path still answers.
 */
function lazy(text: string, name: string, whole?: boolean): (...args: never[]) => never {
  if (!loaded[name]) {
    try {
      Function("$exports", whole ? lazy(UNPACKER, "unpack")(text as never, WHOLE_WORDS as never) : text)(loaded);
    } catch (e) {
      var errors = [INTERNAL_ERROR + String(e)];
      loaded[name] = function () { return (whole ? { data: {}, bytes: [], errors: errors } : undefined) as never; };
    }
  }
  return loaded[name];
}

export function decodeUplink(input: UplinkInput): UplinkOutput {
  var data: Fields | undefined = plainKeepAlive(input) || lazy(UPLINKS, "plainUplink")(input as never, keepAlive as never);
  return data ? { data: data } : lazy(WHOLE, "decodeUplink", true)(input as never);
}

export function Decode(fPort: unknown, bytes: unknown, variables?: unknown): Fields {
  var input = { bytes: bytes, fPort: fPort };
  return plainKeepAlive(input) || lazy(UPLINKS, "plainUplink")(input as never, keepAlive as never) ||
    lazy(WHOLE, "Decode", true)(fPort as never, bytes as never, variables as never);
}

export function Decoder(bytes: unknown, port: unknown): Fields {
  return Decode(port, bytes);
}

export function encodeDownlink(input: { data?: unknown }): EncodeOutput {
  return lazy(SETTER, "plainSetKeepAlive")(input as never) || lazy(DOWNLINKS, "plainDownlink")(input as never) ||
    lazy(WHOLE, "encodeDownlink", true)(input as never);
}

export function decodeDownlink(input: { bytes?: unknown; fPort?: unknown }): DecodeDownlinkOutput {
  return lazy(WHOLE, "decodeDownlink", true)(input as never);
}

export function Encode(_fPort: unknown, obj: unknown, _variables?: unknown): number[] {
  return encodeDownlink({ data: obj }).bytes;
}

export function Encoder(obj: unknown, _port?: unknown): number[] {
  return encodeDownlink({ data: obj }).bytes;
}
