// Entry points of older platforms, all forwarding to the TTS v3 functions.
// They return plain values, so problems travel inside them: `warnings`/`errors` keys on decode,
// and an empty byte array (no command sent, never a wrong byte) when a downlink is refused.
import { encodeDownlink } from "./downlink";
import { withProblems } from "./output";
import { decodeUplink } from "./uplink";

/** ChirpStack v3. */
export function Decode(fPort: unknown, bytes: unknown, _variables?: unknown): Record<string, unknown> {
  var result = decodeUplink({ bytes: bytes, fPort: fPort });
  return withProblems(result.data, result.warnings, result.errors);
}

/** TTN v2 and other legacy platforms. */
export function Decoder(bytes: unknown, port: unknown): Record<string, unknown> {
  return Decode(port, bytes);
}

/** TTN v2 and other legacy platforms. The port is chosen by the platform, so an `fPort` key in `obj` cannot apply. */
export function Encoder(obj: unknown, _port?: unknown): number[] {
  return encodeDownlink({ data: obj }).bytes;
}

/** ChirpStack v3. */
export function Encode(_fPort: unknown, obj: unknown, _variables?: unknown): number[] {
  return Encoder(obj);
}
