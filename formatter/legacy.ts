// Entry points of older platforms, all forwarding to the TTS v3 functions.
// They return plain values, so problems travel inside them: `warnings`/`errors` keys on decode,
// and an empty byte array (no command sent, never a wrong byte) when a downlink is refused.
import { encodeDownlink } from "./downlink";
import { decodeUplink } from "./uplink";

function flatten(fPort: unknown, bytes: unknown): Record<string, unknown> {
  var result = decodeUplink({ bytes: bytes, fPort: fPort });
  var object: Record<string, unknown> = result.data;
  if (result.warnings) object.warnings = result.warnings;
  if (result.errors) object.errors = result.errors;
  return object;
}

/** ChirpStack v3. */
export function Decode(fPort: unknown, bytes: unknown, _variables?: unknown): Record<string, unknown> {
  return flatten(fPort, bytes);
}

/** ChirpStack v3: `fPort` is chosen by ChirpStack, so a `fPort` key in `obj` cannot apply. */
export function Encode(_fPort: unknown, obj: unknown, _variables?: unknown): number[] {
  return encodeDownlink({ data: obj }).bytes;
}

/** TTN v2 and other legacy platforms. */
export function Decoder(bytes: unknown, port: unknown): Record<string, unknown> {
  return flatten(port, bytes);
}

/** TTN v2 and other legacy platforms. */
export function Encoder(obj: unknown, _port: unknown): number[] {
  return encodeDownlink({ data: obj }).bytes;
}
