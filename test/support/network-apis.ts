// Stand-ins for the network servers' downlink APIs, as real servers on real sockets: an HTTP server in place of
// The Things Stack's webhook downlink queue, and a gRPC server with ChirpStack's own DeviceService definition
// (@chirpstack/chirpstack-api). Each records exactly what it received; tests choose how it answers.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import deviceGrpc from "@chirpstack/chirpstack-api/api/device_grpc_pb.js";
import devicePb from "@chirpstack/chirpstack-api/api/device_pb.js";

const { DeviceServiceService } = deviceGrpc;
const { EnqueueDeviceQueueItemResponse } = devicePb;

export interface HttpCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as it came. */
  body: string;
}

export interface TtsStandIn {
  /** The base URL, as TTS_API_URL. */
  url: string;
  calls: HttpCall[];
  /** How the next calls are answered: status and body, possibly after a wait; default 200 "{}" (what TTS answers). */
  answer: (call: HttpCall) => { status: number; body: string } | Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function ttsStandIn(): Promise<TtsStandIn> {
  const standIn: Omit<TtsStandIn, "url" | "close"> = { calls: [], answer: () => ({ status: 200, body: "{}" }) };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const call = { method: request.method!, path: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString("utf8") };
      standIn.calls.push(call);
      void Promise.resolve(standIn.answer(call)).then(({ status, body }) =>
        response.writeHead(status, { "content-type": "application/json" }).end(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(standIn, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}

export interface EnqueueCall {
  authorization: string[];
  devEui: string;
  fPort: number;
  confirmed: boolean;
  data: Buffer;
  flushQueue: boolean;
}

export interface ChirpStackStandIn {
  /** host:port, as CHIRPSTACK_API_URL. */
  address: string;
  calls: EnqueueCall[];
  /** The answer to the next Enqueue: a queue item id, or a gRPC error; may wait. Default: a new UUID at once. */
  answer: (call: EnqueueCall) => Promise<{ id: string } | { code: grpc.status; details: string }>;
  close(): Promise<void>;
}

export async function chirpstackStandIn(): Promise<ChirpStackStandIn> {
  let next = 0;
  const standIn: Omit<ChirpStackStandIn, "address" | "close"> = {
    calls: [],
    answer: async () => ({ id: `00000000-0000-4000-8000-${String(++next).padStart(12, "0")}` }),
  };
  const server = new grpc.Server();
  // Only Enqueue is served; any other method answers UNIMPLEMENTED, as a server without it would.
  server.addService(DeviceServiceService, {
    enqueue: (call: grpc.ServerUnaryCall<devicePb.EnqueueDeviceQueueItemRequest, devicePb.EnqueueDeviceQueueItemResponse>,
      callback: grpc.sendUnaryData<devicePb.EnqueueDeviceQueueItemResponse>) => {
      const item = call.request.getQueueItem();
      const received: EnqueueCall = {
        authorization: call.metadata.get("authorization").map(String),
        devEui: item?.getDevEui() ?? "",
        fPort: item?.getFPort() ?? 0,
        confirmed: item?.getConfirmed() ?? false,
        data: Buffer.from(item?.getData_asU8() ?? []),
        flushQueue: call.request.getFlushQueue(),
      };
      standIn.calls.push(received);
      standIn.answer(received).then((answer) => {
        if ("id" in answer) {
          const response = new EnqueueDeviceQueueItemResponse();
          response.setId(answer.id);
          callback(null, response);
        } else {
          callback({ code: answer.code, details: answer.details }, null);
        }
      });
    },
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return Object.assign(standIn, {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  });
}

/** Waits until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
