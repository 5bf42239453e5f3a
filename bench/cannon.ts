// One load run with autocannon (programmatic API): `connections` keep-alive connections, each sending its
// next request as soon as the previous one is answered, `amount` requests in all; request i carries
// body(first + i). A fixed amount, not a duration, so that the run ends with every request answered:
// stopped at a time, the requests still in flight would be stored without their answer being counted.
import autocannon from "autocannon";

export interface CannonRun {
  /** Answers by status code. */
  statuses: Record<string, number>;
  ok: number;
  /** Connection errors and timeouts: requests without an answer. */
  errors: number;
  seconds: number;
  /** 2xx answers per second. */
  rate: number;
  p50: number;
  p99: number;
}

export async function cannon(url: string, o: { connections: number; amount: number; first: number; body: (n: number) => string; headers: Record<string, string> }): Promise<CannonRun> {
  let n = o.first;
  const result = await autocannon({
    url,
    connections: o.connections,
    amount: o.amount,
    // A run of `amount` requests ends at the first sample tick after its last answer: at the default 1 s
    // between samples its duration, and so its rate, would be rounded up to a whole second.
    sampleInt: 100,
    requests: [{
      method: "POST",
      headers: { ...o.headers, "content-type": "application/json" },
      setupRequest: (request) => ({ ...request, body: o.body(n++) }),
    }],
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  return {
    statuses,
    ok: result["2xx"],
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    rate: result["2xx"] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
