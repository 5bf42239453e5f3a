// The one codec call for every downlink: the formatter validates and encodes; its errors are the 400 answer.
import { encodeDownlink } from "../../formatter/index";
import { ApiError } from "../api/errors";

export interface Encoded {
  fPort: number;
  bytes: Uint8Array;
  warnings: string[];
}

/** `data` (encodeDownlink keys) as bytes on their fPort; an ApiError(400) with the codec's own messages. */
export function encode(data: Record<string, unknown>): Encoded {
  const out = encodeDownlink({ data });
  if (out.errors) throw new ApiError(400, out.errors.join("; "));
  return { fPort: out.fPort, bytes: Uint8Array.from(out.bytes), warnings: out.warnings ?? [] };
}
