// A stand-in TTS for the benches: answers every downlink push {} after `pushMs` (a slow network API), and counts them.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlowTts {
  url: string;
  /** Pushes answered so far. */
  pushes(): number;
  close(): void;
}

export async function slowTts(pushMs: number): Promise<SlowTts> {
  let pushes = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => setTimeout(() => {
      pushes++;
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    }, pushMs));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pushes: () => pushes, close: () => server.close() };
}
