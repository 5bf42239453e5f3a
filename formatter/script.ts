// The top of dist/formatter.js: what a network server compiles on every call. ChirpStack v4 evaluates the
// pasted script in a new QuickJS runtime for each uplink, TTS and ChirpStack v3 do the same in goja and otto,
// and these engines compile every function of a script before running any: compiling code costs a call 0.14 to
// 0.25 ms a KB, carrying a string literal about 0.02 (npm run bench:codec). So the script compiles only the
// keep-alive's straight path and one-line entry points. The rest travels as text, compiled by Function() on the
// first call that needs it, in two tiers: per direction, a small reader or writer of the common calls
// (plain-uplink.ts: responses before a keep-alive; plain-downlink.ts: GETs, actions, SETs of one number), and
// the whole codec, formatter/*.ts built on its own and packed (unpack.ts), for everything else (warnings a
// reading is worth, errors, object or scaled values, custom hex, decodeDownlink). A first tier answers as the whole
// codec does, or leaves the call to it.
import { INTERNAL_ERROR } from "./bytes";
import type { DecodeDownlinkOutput, EncodeOutput } from "./downlink";
import { type Fields, keepAlive } from "./uplink-messages";
import { plainKeepAlive, type UplinkInput, type UplinkOutput } from "./uplink";

// Put here by scripts/build-formatter.ts: scripts that set their functions on the object `$exports`.
/** The whole codec, packed (unpack.ts): it unpacks and runs itself, and sets every entry point. */
declare var CODEC: string;
/** plain-uplink.ts: plainUplink(input, keepAlive), its table inside. */
declare var PLAIN_UPLINK: string;
/** plain-downlink.ts: plainDownlink(input), its table inside. */
declare var PLAIN_DOWNLINK: string;

// Each text once in the script (esbuild writes a defined value wherever it is named).
var WHOLE = CODEC;
var UPLINKS = PLAIN_UPLINK;
var DOWNLINKS = PLAIN_DOWNLINK;

// What the texts set: the whole codec's entry points, plainUplink and plainDownlink.
var loaded: { [name: string]: (...args: never[]) => never } = {};

/**
 * The function `name` that `text` sets on `$exports`, compiled by the first call that needs it. Where the engine
 * refuses to compile strings, a first tier answers undefined (the whole codec is asked next) and the whole
 * codec (`whole`) answers with the reason as its error; only the keep-alive's straight path still decodes.
 */
function lazy(text: string, name: string, whole?: boolean): (...args: never[]) => never {
  if (!loaded[name]) {
    try {
      Function("$exports", text)(loaded);
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
  return lazy(DOWNLINKS, "plainDownlink")(input as never) || lazy(WHOLE, "encodeDownlink", true)(input as never);
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
