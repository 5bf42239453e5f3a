// The 16ASPM codec: what the bundle exposes to network servers, and what the webhook imports.
export { decodeUplink, readMessages, type DecodedMessage, type UplinkOutput } from "./uplink";
export { decodeDownlink, encodeDownlink, type EncodeOutput } from "./downlink";
export { Decode, Decoder, Encode, Encoder } from "./legacy";
export { UPLINK_MESSAGES, type Fields } from "./uplink-messages";
export { DOWNLINK_COMMANDS } from "./downlink-commands";
