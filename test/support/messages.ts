// Network-server bodies as TTS and ChirpStack send them (shapes from network-servers.md).
import integration from "@chirpstack/chirpstack-api/integration/integration_pb.js";
import common from "@chirpstack/chirpstack-api/common/common_pb.js";
import gw from "@chirpstack/chirpstack-api/gw/gw_pb.js";
import durationPb from "google-protobuf/google/protobuf/duration_pb.js";
import structPb from "google-protobuf/google/protobuf/struct_pb.js";
import timestampPb from "google-protobuf/google/protobuf/timestamp_pb.js";

// CommonJS modules: their classes come off the default export under Node's ESM loader.
const { Struct } = structPb;
const { Timestamp } = timestampPb;
const { Duration } = durationPb;

export const TOKEN = "test-token-0123456789abcdef";
/** An api token (/api only), never a webhook token. */
export const API_TOKEN = "api-token-0123456789abcdef";
export const KEEP_ALIVE_B64 = Buffer.from("011C034A241805D9E7195201", "hex").toString("base64");

export function b64(hexText: string): string {
  return Buffer.from(hexText.replace(/\s+/g, ""), "hex").toString("base64");
}

let counter = 0;
/** A unique suffix, so uplinks of one test never collide with another's. */
export function unique(): string {
  return `${Date.now().toString(36)}${(counter++).toString(36)}`;
}

export function ttsUplink(o: { devEui?: string; payload?: string; fCnt?: number; time?: string; id?: string; simulated?: boolean } = {}) {
  return {
    end_device_ids: {
      device_id: "plug-kitchen",
      application_ids: { application_id: "energy-demo" },
      dev_eui: o.devEui ?? "70B3D52DD3000001",
      join_eui: "70B3D57ED0000000",
      dev_addr: "260B1234",
    },
    correlation_ids: [`as:up:${o.id ?? unique()}`, "rpc:/ttn.lorawan.v3.AppAs/SimulateUplink:abc"],
    received_at: "2026-11-21T10:00:01.123456789Z",
    ...(o.simulated ? { simulated: true } : {}),
    uplink_message: {
      session_key_id: "AYZb2kPq3w==",
      f_port: 2,
      f_cnt: o.fCnt ?? 4711,
      frm_payload: o.payload ?? KEEP_ALIVE_B64,
      rx_metadata: [
        { gateway_ids: { gateway_id: "gw-roof", eui: "B827EBFFFE000001" }, time: "2026-11-21T10:00:00.987Z", rssi: -97, channel_rssi: -97, snr: 7.25 },
        { gateway_ids: { gateway_id: "gw-cellar" }, rssi: -110, snr: -3.5 },
      ],
      settings: {
        data_rate: { lora: { bandwidth: 125000, spreading_factor: 9, coding_rate: "4/5" } },
        frequency: "868300000",
      },
      received_at: o.time ?? "2026-11-21T10:00:01.001Z",
      consumed_airtime: "0.185344s",
    },
  };
}

export function chirpstackUplink(o: { devEui?: string; data?: string; time?: string; id?: string; fCnt?: number } = {}) {
  return {
    deduplicationId: o.id ?? `3e0c1a4e-8d5b-4f7e-9a61-${unique()}`,
    time: o.time ?? "2026-11-21T10:00:01.123456+00:00",
    deviceInfo: {
      tenantId: "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", tenantName: "ChirpStack",
      applicationId: "1f9d6c2e-5b6a-4c8e-9f0d-3a2b1c0d9e8f", applicationName: "energy",
      deviceProfileId: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", deviceProfileName: "MClimate 16ASPM",
      deviceName: "plug-office", devEui: o.devEui ?? "70b3d52dd3000002", deviceClassEnabled: "CLASS_C",
      tags: {},
    },
    devAddr: "01ab23cd", adr: true, dr: 5, fCnt: o.fCnt ?? 812, fPort: 2, confirmed: false,
    data: o.data ?? "EgoBHANKJBgF2ecZUgE=",
    object: { keepAliveTime: 10, internalTemperature: 28 },
    rxInfo: [{ gatewayId: "0016c001f153a14c", uplinkId: 4217106255, rssi: -36, snr: 10.5, context: "E3OWOQ==", metadata: { region_config_id: "eu868" } }],
    txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: "CR_4_5" } } },
  };
}

function deviceInfo(devEui: string, name: string) {
  const info = new integration.DeviceInfo();
  info.setDevEui(devEui);
  info.setDeviceName(name);
  info.setApplicationName("energy");
  return info;
}

function timestamp(iso: string, micros: number) {
  const t = new Timestamp();
  t.setSeconds(Math.floor(Date.parse(iso) / 1000));
  t.setNanos(micros * 1000);
  return t;
}

/** A ChirpStack UplinkEvent in protobuf, built with ChirpStack's own API package. */
export function chirpstackUplinkProtobuf(o: { devEui?: string; data: string; id: string; time?: string; micros?: number; object?: Record<string, unknown> }): Uint8Array {
  const event = new integration.UplinkEvent();
  event.setDeduplicationId(o.id);
  event.setTime(timestamp(o.time ?? "2026-11-21T10:00:01Z", o.micros ?? 123456));
  event.setDeviceInfo(deviceInfo(o.devEui ?? "70b3d52dd3000003", "plug-garage"));
  event.setDevAddr("01ab23ce");
  event.setFCnt(99);
  event.setFPort(2);
  event.setData(Buffer.from(o.data, "base64"));
  if (o.object) event.setObject(Struct.fromJavaScript(o.object as never));
  const rx = new gw.UplinkRxInfo();
  rx.setGatewayId("0016c001f153a14c");
  rx.setRssi(-80);
  rx.setSnr(5.5);
  event.setRxInfoList([rx]);
  const tx = new gw.UplinkTxInfo();
  tx.setFrequency(868500000);
  const modulation = new gw.Modulation();
  const lora = new gw.LoraModulationInfo();
  lora.setSpreadingFactor(10);
  lora.setBandwidth(125000);
  modulation.setLora(lora);
  tx.setModulation(modulation);
  event.setTxInfo(tx);
  return event.serializeBinary();
}

/** A ChirpStack JoinEvent in protobuf. */
export function chirpstackJoinProtobuf(devEui: string, id: string): Uint8Array {
  const event = new integration.JoinEvent();
  event.setDeduplicationId(id);
  event.setTime(timestamp("2026-11-21T09:00:00Z", 0));
  event.setDeviceInfo(deviceInfo(devEui, "plug-garage"));
  event.setDevAddr("01ab23ce");
  return event.serializeBinary();
}

/**
 * A ChirpStack event of each kind it sends in protobuf, built with its API package, with a field in each
 * message they carry (maps, Location, DownlinkTxInfo with its timing), so mutations of it reach them all.
 */
export function chirpstackEventProtobuf(event: "up" | "join" | "ack" | "txack" | "log" | "status" | "location", devEui: string, id: string): Uint8Array {
  if (event === "up") return chirpstackUplinkProtobuf({ devEui, id, data: KEEP_ALIVE_B64, object: { keepAliveTime: 10, list: [1, "a", { b: null }] } });
  if (event === "join") return chirpstackJoinProtobuf(devEui, id);
  const info = deviceInfo(devEui, "plug-garage");
  info.getTagsMap().set("room", "garage");
  const time = timestamp("2026-11-21T10:00:00Z", 0);
  if (event === "ack") {
    const m = new integration.AckEvent();
    m.setDeduplicationId(id); m.setTime(time); m.setDeviceInfo(info); m.setQueueItemId("q1"); m.setAcknowledged(true); m.setFCntDown(7);
    return m.serializeBinary();
  }
  if (event === "txack") {
    const m = new integration.TxAckEvent();
    m.setDownlinkId(42); m.setTime(time); m.setDeviceInfo(info); m.setQueueItemId("q1"); m.setFCntDown(7); m.setGatewayId("0016c001f153a14c");
    const tx = new gw.DownlinkTxInfo();
    tx.setFrequency(869525000);
    const modulation = new gw.Modulation();
    const lora = new gw.LoraModulationInfo();
    lora.setSpreadingFactor(9); lora.setBandwidth(125000);
    modulation.setLora(lora);
    tx.setModulation(modulation);
    const timing = new gw.Timing();
    const delay = new gw.DelayTimingInfo();
    const d = new Duration();
    d.setSeconds(1);
    delay.setDelay(d);
    timing.setDelay(delay);
    tx.setTiming(timing);
    m.setTxInfo(tx);
    return m.serializeBinary();
  }
  if (event === "log") {
    const m = new integration.LogEvent();
    m.setTime(time); m.setDeviceInfo(info); m.setLevel(integration.LogLevel.ERROR); m.setCode(integration.LogCode.UPLINK_CODEC); m.setDescription("codec error");
    m.getContextMap().set("deduplication_id", id);
    return m.serializeBinary();
  }
  if (event === "status") {
    const m = new integration.StatusEvent();
    m.setDeduplicationId(id); m.setTime(time); m.setDeviceInfo(info); m.setMargin(7); m.setBatteryLevel(90.5);
    return m.serializeBinary();
  }
  const m = new integration.LocationEvent();
  m.setDeduplicationId(id); m.setTime(time); m.setDeviceInfo(info);
  const location = new common.Location();
  location.setLatitude(52.1); location.setLongitude(4.3); location.setAltitude(3); location.setSource(common.LocationSource.GEO_RESOLVER_TDOA);
  m.setLocation(location);
  return m.serializeBinary();
}
