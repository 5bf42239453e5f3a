// Keep-alive uplinks as the webhook's routes hand them to the store, for tests of what is built on readings.
import type { Database } from "../../webhook/db/database";
import type { UplinkRecord } from "../../webhook/ingest/records";
import { writeBatch } from "../../webhook/store/batch";

export interface KeepAlive {
  time: string;
  energyWh: number;
  powerW?: number;
  voltageV?: number;
  currentMa?: number;
  temperatureC?: number;
  relayOn?: boolean;
}

/** The 12 bytes of a keep-alive (16aspm-protocol.md: 01, temperature, E u32, P u16, V u8, I u16, relay). */
export function keepAliveBytes(k: KeepAlive): Uint8Array {
  const b = Buffer.alloc(12);
  const t = k.temperatureC ?? 25;
  b[0] = 0x01;
  b[1] = t < 0 ? 0x80 | -t : t;
  b.writeUInt32BE(k.energyWh, 2);
  b.writeUInt16BE(k.powerW ?? 0, 6);
  b[8] = k.voltageV ?? 230;
  b.writeUInt16BE(k.currentMa ?? 0, 9);
  b[11] = k.relayOn === false ? 0 : 1;
  return b;
}

/** One uplink record holding `payload` (a keep-alive unless given other bytes). */
export function uplinkRecord(devEui: string, time: string, payload: Uint8Array, fCnt = 0): UplinkRecord {
  return {
    type: "uplink", network: "ttn", devEui, deviceName: `plug-${devEui.slice(-4)}`, application: "analytics-test",
    receivedAt: time, dedupKey: `tts:as:up:${devEui}-${time}`, fCnt, fPort: 2, payload, networkDecoded: null,
    rssi: -90, snr: 5, gatewayCount: 1, spreadingFactor: 7, bandwidthHz: 125000, frequency: 868100000, simulated: false,
  };
}

/** Stores the keep-alives in one transaction, through the webhook's own batch writer. */
export async function storeKeepAlives(db: Database, devEui: string, keepAlives: KeepAlive[]): Promise<void> {
  const records = keepAlives.map((k, i) => uplinkRecord(devEui, k.time, keepAliveBytes(k), i));
  await db.transaction((tx) => writeBatch(tx, records));
}
