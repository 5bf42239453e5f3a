// Turns an uplink's bytes (or, without bytes, the network's decoded object) into what the
// database keeps: a reading per keep-alive, an event per other message, reported settings, relay state.
import { type DecodedMessage, type Fields, readMessages, UPLINK_MESSAGES } from "../../formatter/index";
import type { UplinkRecord } from "./records";

export interface Reading {
  temperatureC: number;
  energyWh: number;
  powerW: number;
  voltageV: number;
  currentMa: number;
  relayOn: boolean;
}

export interface Interpretation {
  decoded: Fields | null;
  errors: string[];
  warnings: string[];
  reading: Reading | null;
  /** Every message but the keep-alive, in order: kind is the codec's field name. */
  events: { kind: string; offset: number; data: Fields }[];
  /** Configuration responses, by field name. */
  settings: Fields;
  relayOn: boolean | null;
}

// Messages that report something that happened, not a configuration value.
const NOT_SETTINGS = new Set([
  // Reports of what happened, not of how the plug is configured: events only.
  "keepAlive", "relayState", "manualChangeRelayState", "relayStateChangeReason",
  "overheatingEvents", "overvoltageEvents", "overcurrentEvents", "overpowerEvents",
  "overheatingRecoveryTime", "overvoltageRecoveryTime", "overcurrentRecoveryTemp", "overpowerRecoveryTemp",
]);

export function interpret(uplink: UplinkRecord): Interpretation {
  const result = interpretBytes(uplink);
  // A time not believed is noted beside the decoder's warnings (decode_warnings), first.
  if (uplink.timeNote) result.warnings = [uplink.timeNote, ...result.warnings];
  return result;
}

function interpretBytes(uplink: UplinkRecord): Interpretation {
  if (uplink.payload) {
    const { messages, warnings, errors } = readMessages(uplink.payload, undefined, uplink.fPort);
    return fromMessages(messages, warnings, errors);
  }
  if (uplink.networkDecoded) return fromMessages(messagesOf(uplink.networkDecoded), [], []);
  return fromMessages([], [], ["no payload: the network sent neither raw bytes nor a decoded object"]);
}

function fromMessages(messages: DecodedMessage[], warnings: string[], errors: string[]): Interpretation {
  const result: Interpretation = { decoded: null, errors, warnings, reading: null, events: [], settings: {}, relayOn: null };
  for (const message of messages) {
    result.decoded = { ...result.decoded, ...message.fields };
    const f = message.fields;
    if (message.name === "keepAlive") {
      result.reading = {
        temperatureC: f.internalTemperature as number,
        energyWh: f.energy_Wh as number,
        powerW: f.power_W as number,
        voltageV: f.acVoltage_V as number,
        currentMa: f.acCurrent_mA as number,
        relayOn: f.relayState === "ON",
      };
      result.relayOn = result.reading.relayOn;
      continue;
    }
    result.events.push({ kind: message.name, offset: message.offset, data: f });
    if (message.name === "relayState") result.relayOn = f.relayState === "ON";
    if (message.name === "manualChangeRelayState") result.relayOn = f.manualChangeRelayState === true;
    if (!NOT_SETTINGS.has(message.name)) Object.assign(result.settings, f);
  }
  return result;
}

const KEEP_ALIVE_FIELDS = ["internalTemperature", "power_W", "acVoltage_V", "acCurrent_mA", "relayState"];

/**
 * The messages a decoded object stands for. It may come from this codec or the vendor's (the same
 * names); the vendor's has no energy_Wh, so the counter is taken from energy_kWh.
 */
function messagesOf(object: Record<string, unknown>): DecodedMessage[] {
  const messages: DecodedMessage[] = [];
  const energyWh = typeof object.energy_Wh === "number" ? object.energy_Wh
    : typeof object.energy_kWh === "number" ? Math.round(object.energy_kWh * 1000) : undefined;
  if (energyWh !== undefined && KEEP_ALIVE_FIELDS.every((k) => object[k] !== undefined)) {
    const fields: Fields = { energy_Wh: energyWh, energy_kWh: energyWh / 1000 };
    for (const k of KEEP_ALIVE_FIELDS) fields[k] = object[k];
    if ([fields.internalTemperature, fields.power_W, fields.acVoltage_V, fields.acCurrent_mA].every((v) => typeof v === "number")) {
      messages.push({ code: 0x01, name: "keepAlive", offset: 0, fields });
    }
  }
  for (const message of UPLINK_MESSAGES) {
    // relayState alone (without a keep-alive) is the B1 response.
    if (message.name === "keepAlive" || (message.name === "relayState" && messages.length > 0)) continue;
    if (object[message.name] !== undefined) {
      messages.push({ code: message.code, name: message.name, offset: messages.length, fields: { [message.name]: object[message.name] } });
    }
  }
  return messages;
}
