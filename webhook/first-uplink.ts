// The first uplink a new user sends by hand (npm start prints it, the README shows it): a real TTS uplink
// webhook body, a plug's keep-alive (28 °C, 55 190.552 kWh, 1497 W, 231 V, 6482 mA, relay on).
export const FIRST_UPLINK = {
  end_device_ids: { device_id: "my-first-plug", application_ids: { application_id: "my-app" }, dev_eui: "70B3D52DD3000001" },
  uplink_message: {
    f_port: 2, f_cnt: 1, frm_payload: "ARwDSiQYBdnnGVIB",
    rx_metadata: [{ rssi: -97, snr: 7.25 }],
    settings: { data_rate: { lora: { bandwidth: 125000, spreading_factor: 7 } } },
  },
};

/** A shell command that posts FIRST_UPLINK to the service at `base` with the webhook token `token`. */
export function firstUplinkCurl(base: string, token: string): string {
  return `curl -sS ${base}/ttn -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' \\\n      -d '${JSON.stringify(FIRST_UPLINK)}'`;
}
