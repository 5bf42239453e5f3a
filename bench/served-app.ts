// The service's app on a socket for the read benches, and a GET through it with the API token.
import type { AddressInfo } from "node:net";
import { buildApp } from "../webhook/app";
import type { Database } from "../webhook/db/database";

export const API_TOKEN = "bench-api-token-0123456789abcdef";

export async function servedApp(db: Database): Promise<{ get(path: string): Promise<ArrayBuffer>; close(): Promise<void> }> {
  const app = await buildApp({ db, tokens: ["bench-webhook-token-0123456789"], apiTokens: [API_TOKEN] });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    async get(path) {
      const answer = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      if (!answer.ok) throw new Error(`${path}: ${answer.status} ${await answer.text()}`);
      return answer.arrayBuffer();
    },
    close: () => app.close(),
  };
}
