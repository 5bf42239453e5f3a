// Downlink events as the network servers send them to the webhook (network-servers.md, "Sending downlinks").

/** A TTS downlink_* webhook message for a downlink pushed with `correlationIds`. */
export function ttsDownlinkEvent(type: "downlink_queued" | "downlink_sent" | "downlink_ack" | "downlink_nack" | "downlink_failed", o: {
  devEui: string; deviceId: string; application?: string; correlationIds: string[]; frmPayload?: string; confirmed?: boolean;
}) {
  const downlink = {
    f_port: 1,
    frm_payload: o.frmPayload ?? "wQE=",
    ...(o.confirmed ? { confirmed: true } : {}),
    priority: "NORMAL",
    // TTS adds its own as:downlink id to those given in the push.
    correlation_ids: ["as:downlink:01JD7Z3X4Y5Q6R7S8T9V0W1X2Y", ...o.correlationIds],
  };
  return {
    end_device_ids: {
      device_id: o.deviceId,
      application_ids: { application_id: o.application ?? "energy-demo" },
      dev_eui: o.devEui.toUpperCase(),
    },
    correlation_ids: downlink.correlation_ids,
    received_at: new Date().toISOString(),
    [type]: type === "downlink_failed"
      ? { downlink, error: { namespace: "pkg/networkserver", name: "no_device_session", message_format: "no device session", code: 9 } }
      : downlink,
  };
}

function deviceInfo(devEui: string) {
  return { tenantId: "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", applicationName: "energy", deviceName: "plug-office", devEui };
}

/** A ChirpStack txack event (JSON) for queue item `queueItemId`. */
export function chirpstackTxAck(devEui: string, queueItemId: string) {
  return {
    downlinkId: 3519624931, time: new Date().toISOString(), deviceInfo: deviceInfo(devEui), queueItemId, fCntDown: 7,
    gatewayId: "0016c001f153a14c", txInfo: { frequency: 869525000, power: 14 },
  };
}

/** A ChirpStack ack event (JSON); `acknowledged` left out when false, as ChirpStack's JSON may. */
export function chirpstackAck(devEui: string, queueItemId: string, acknowledged: boolean) {
  return {
    deduplicationId: `ack-${queueItemId}`, time: new Date().toISOString(), deviceInfo: deviceInfo(devEui), queueItemId, fCntDown: 7,
    ...(acknowledged ? { acknowledged: true } : {}),
  };
}
