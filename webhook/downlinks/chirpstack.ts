// Downlinks through ChirpStack v4's gRPC API (contract §4): api.DeviceService/Enqueue with ChirpStack's own
// client (@chirpstack/chirpstack-api on @grpc/grpc-js), metadata `authorization: Bearer <API key>`. The queue
// item id it answers ties its txack / ack events to the downlink.
import * as grpc from "@grpc/grpc-js";
import deviceGrpc from "@chirpstack/chirpstack-api/api/device_grpc_pb.js";
import devicePb from "@chirpstack/chirpstack-api/api/device_pb.js";
import { type Delivery, type NetworkRoute, PushError, redact, type Target } from "./delivery";

// CommonJS modules: their classes come off the default export under Node's ESM loader.
const { DeviceServiceClient } = deviceGrpc;
const { DeviceQueueItem, EnqueueDeviceQueueItemRequest } = devicePb;

export interface ChirpStackSettings {
  /** host:port (plain HTTP/2), or https://host:port (TLS); http://host:port is plain too. */
  apiUrl: string;
  apiToken: string;
}

/** The gRPC target and whether it uses TLS, from CHIRPSTACK_API_URL. */
export function grpcTarget(apiUrl: string): { address: string; tls: boolean } {
  const match = apiUrl.match(/^(https?):\/\/([^/]+)\/?$/);
  if (match) return { address: match[2], tls: match[1] === "https" };
  return { address: apiUrl, tls: false };
}

export class ChirpStackRoute implements NetworkRoute {
  readonly network = "chirpstack" as const;
  private readonly client: InstanceType<typeof DeviceServiceClient>;
  private readonly address: string;

  constructor(
    private readonly settings: ChirpStackSettings,
    private readonly timeoutMs = 10_000,
  ) {
    const { address, tls } = grpcTarget(settings.apiUrl);
    this.address = address;
    this.client = new DeviceServiceClient(address, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure());
  }

  unavailable(): undefined {
    return undefined;
  }

  reference(): null {
    return null;
  }

  push(target: Target, delivery: Delivery): Promise<string> {
    const item = new DeviceQueueItem();
    item.setDevEui(target.devEui);
    item.setFPort(delivery.fPort);
    item.setConfirmed(delivery.confirmed);
    item.setData(delivery.bytes);
    const request = new EnqueueDeviceQueueItemRequest();
    request.setQueueItem(item);
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${this.settings.apiToken}`);
    return new Promise((resolve, reject) => {
      this.client.enqueue(request, metadata, { deadline: Date.now() + this.timeoutMs }, (error, response) => {
        if (error) {
          const status = grpc.status[error.code] ?? String(error.code);
          const what = error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.DEADLINE_EXCEEDED ? "is unreachable" : "refused the downlink";
          reject(new PushError(redact(`ChirpStack API at ${this.address} ${what}: ${status}${error.details ? `: ${error.details}` : ""}`, [this.settings.apiToken])));
          return;
        }
        const id = response?.getId();
        if (!id) reject(new PushError(`ChirpStack API at ${this.address} took the downlink but answered no queue item id`));
        else resolve(id);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
