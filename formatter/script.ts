// The top of dist/formatter.js: what a network server compiles on every call. ChirpStack v4 evaluates the
// pasted script in a new QuickJS runtime for each uplink, TTS and ChirpStack v3 do the same in goja and otto,
// and these engines compile every function of a script before running any: compiling code costs a call 0.14 to
// 0.25 ms a KB, carrying a string literal about 0.02 (npm run bench:codec). So the script compiles only the
// keep-alive's straight path and one-line entry points. The rest travels as text, compiled by Function() on the
// first call that needs it, in two tiers: per direction, a small reader or writer of the common calls
// (plain-uplink.ts: responses before a keep-alive; plain-downlink.ts: GETs, actions, SETs of one number), and
// the whole codec, formatter/*.ts built on its own, for everything else (warnings a reading is worth, errors,
// object values, custom hex, decodeDownlink). Each tier answers as the whole codec does, or leaves the call to it.
import { INTERNAL_ERROR } from "./bytes";
import type { DecodeDownlinkOutput, EncodeOutput } from "./downlink";
import type * as Codec from "./index";
import type { plainDownlink } from "./plain-downlink";
import type { KeepAliveReader } from "./plain-uplink";
import { type Fields, keepAlive } from "./uplink-messages";
import { plainKeepAlive, type UplinkInput, type UplinkOutput } from "./uplink";

type EntryPoints = Pick<typeof Codec, "decodeUplink" | "encodeDownlink" | "decodeDownlink" | "Decode" | "Decoder" | "Encode" | "Encoder">;

// Put here by scripts/build-formatter.ts: scripts that set their functions on the object `$exports`.
/** The whole codec: every entry point. */
declare var CODEC: string;
/** plain-uplink.ts: plainUplink(input, keepAlive), its table inside. */
declare var PLAIN_UPLINK: string;
/** plain-downlink.ts: plainDownlink(input), its table inside. */
declare var PLAIN_DOWNLINK: string;

var codec: (Partial<EntryPoints> & { refused?: string }) | undefined;
var failed: (...args: unknown[]) => never;
type Uplinks = { plainUplink?: (input: UplinkInput, keepAlive: KeepAliveReader) => Fields | undefined };
type Downlinks = { plainDownlink?: (input: { data?: unknown }) => ReturnType<typeof plainDownlink> };
var uplinks: Uplinks | undefined;
var downlinks: Downlinks | undefined;

/**
 * Runs `text`, which sets functions on the object it is given, and returns that object; an engine that refuses to
 * compile strings leaves it empty but for `refused`, the reason.
 */
function compiled<T>(text: string): T & { refused?: string } {
  var into = {} as T & { refused?: string };
  try {
    Function("$exports", text)(into);
  } catch (e) {
    into = { refused: String(e) } as T & { refused?: string };
  }
  return into;
}

/** The entry point `name` of the whole codec, compiled on the first call that needs it. */
function rest<K extends keyof EntryPoints>(name: K): EntryPoints[K] {
  if (!codec) {
    codec = compiled<Partial<EntryPoints>>(CODEC);
    // An engine that refuses to compile strings: every call but the keep-alive's answers with the reason.
    var errors = [INTERNAL_ERROR + codec.refused];
    failed = function () { return { data: {}, bytes: [], errors: errors } as never; };
  }
  return (codec[name] || failed) as EntryPoints[K];
}

/** plain-uplink.ts's answer, or undefined. */
function plainUplink(input: UplinkInput): Fields | undefined {
  var tier = uplinks = uplinks || compiled<Uplinks>(PLAIN_UPLINK);
  return tier.plainUplink ? tier.plainUplink(input, keepAlive) : undefined;
}

/** plain-downlink.ts's answer, or undefined. */
function plainDownlinkOf(input: { data?: unknown }): EncodeOutput | undefined {
  var tier = downlinks = downlinks || compiled<Downlinks>(PLAIN_DOWNLINK);
  return tier.plainDownlink ? tier.plainDownlink(input) : undefined;
}

export function decodeUplink(input: UplinkInput): UplinkOutput {
  var data = plainKeepAlive(input) || plainUplink(input);
  return data ? { data: data } : rest("decodeUplink")(input);
}

export function Decode(fPort: unknown, bytes: unknown, variables?: unknown): Fields {
  var input = { bytes: bytes, fPort: fPort };
  return plainKeepAlive(input) || plainUplink(input) || rest("Decode")(fPort, bytes, variables);
}

export function Decoder(bytes: unknown, port: unknown): Fields {
  var input = { bytes: bytes, fPort: port };
  return plainKeepAlive(input) || plainUplink(input) || rest("Decoder")(bytes, port);
}

export function encodeDownlink(input: { data?: unknown }): EncodeOutput {
  return plainDownlinkOf(input) || rest("encodeDownlink")(input);
}

export function decodeDownlink(input: { bytes?: unknown; fPort?: unknown }): DecodeDownlinkOutput {
  return rest("decodeDownlink")(input);
}

export function Encode(fPort: unknown, obj: unknown, variables?: unknown): number[] {
  var out = plainDownlinkOf({ data: obj });
  return out ? out.bytes : rest("Encode")(fPort, obj, variables);
}

export function Encoder(obj: unknown, port?: unknown): number[] {
  var out = plainDownlinkOf({ data: obj });
  return out ? out.bytes : rest("Encoder")(obj, port);
}
