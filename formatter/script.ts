// The top of dist/formatter.js: what a network server compiles on every call. ChirpStack v4 evaluates the
// pasted script in a new QuickJS runtime for each uplink, TTS and ChirpStack v3 do the same in goja and otto,
// and these engines compile every function of a script before running any: compiling the whole codec was most
// of what a call cost (npm run bench:codec). So the script compiles only the keep-alive's straight path. The
// rest of the codec, the same formatter/*.ts built on its own, travels as packed text (a string literal costs
// a scan; scripts/pack.ts keeps it in the budget) and is compiled by Function() on the first call that needs
// it: any uplink but a plain keep-alive, any downlink.
import { INTERNAL_ERROR } from "./bytes";
import type { DecodeDownlinkOutput, EncodeOutput } from "./downlink";
import type * as Codec from "./index";
import type { Fields } from "./uplink-messages";
import { unpack } from "./unpack";
import { plainKeepAlive, type UplinkInput, type UplinkOutput } from "./uplink";

type EntryPoints = Pick<typeof Codec, "decodeUplink" | "encodeDownlink" | "decodeDownlink" | "Decode" | "Decoder" | "Encode" | "Encoder">;

// Put here by scripts/build-formatter.ts: the rest of the codec, a script that sets every entry point on the
// object `$exports`, packed (scripts/pack.ts) into text and a word table.
declare var PACKED_CODEC: string;
declare var PACKED_WORDS: string;

var codec: Partial<EntryPoints> | undefined;
var failed: (...args: unknown[]) => never;

/** The entry point `name` of the whole codec, compiled on the first call that needs it. */
function rest<K extends keyof EntryPoints>(name: K): EntryPoints[K] {
  if (!codec) {
    codec = {};
    try {
      Function("$exports", unpack(PACKED_CODEC, PACKED_WORDS))(codec);
    } catch (e) {
      // An engine that refuses to compile strings: every call but the keep-alive's answers with the reason.
      var errors = [INTERNAL_ERROR + String(e)];
      failed = function () { return { data: {}, bytes: [], errors: errors } as never; };
    }
  }
  return (codec[name] || failed) as EntryPoints[K];
}

export function decodeUplink(input: UplinkInput): UplinkOutput {
  var data = plainKeepAlive(input);
  return data !== undefined ? { data: data } : rest("decodeUplink")(input);
}

export function Decode(fPort: unknown, bytes: unknown, variables?: unknown): Fields {
  return plainKeepAlive({ bytes: bytes, fPort: fPort }) || rest("Decode")(fPort, bytes, variables);
}

export function Decoder(bytes: unknown, port: unknown): Fields {
  return plainKeepAlive({ bytes: bytes, fPort: port }) || rest("Decoder")(bytes, port);
}

export function encodeDownlink(input: { data?: unknown }): EncodeOutput {
  return rest("encodeDownlink")(input);
}

export function decodeDownlink(input: { bytes?: unknown; fPort?: unknown }): DecodeDownlinkOutput {
  return rest("decodeDownlink")(input);
}

export function Encode(fPort: unknown, obj: unknown, variables?: unknown): number[] {
  return rest("Encode")(fPort, obj, variables);
}

export function Encoder(obj: unknown, port?: unknown): number[] {
  return rest("Encoder")(obj, port);
}
