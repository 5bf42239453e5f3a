// A small closed-loop HTTP load generator: `connections` keep-alive connections, each sending its next
// request as soon as the previous one is answered, for `seconds` or until the signal aborts.
import http from "node:http";

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  seconds: number;
  latenciesMs: number[];
  /** The number `n` of every request answered 2xx. */
  acked: number[];
  /** Answers by status code (0: no answer, the connection failed). */
  statuses: Record<number, number>;
}

export async function load(url: string, connections: number, duration: number | AbortSignal, body: (n: number) => string, headers: Record<string, string>): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, seconds: 0, latenciesMs: [], acked: [], statuses: {} };
  const start = performance.now();
  const running = typeof duration === "number" ? () => performance.now() < start + duration * 1000 : () => !duration.aborted;

  const send = (payload: string) => new Promise<number>((resolve) => {
    const request = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
    }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", () => resolve(0));
    request.end(payload);
  });

  const worker = async () => {
    while (running()) {
      const n = result.sent++;
      const t0 = performance.now();
      const status = await send(body(n));
      result.latenciesMs.push(performance.now() - t0);
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        result.ok++;
        result.acked.push(n);
      } else {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  result.seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return result;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
