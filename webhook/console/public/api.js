// @ts-check
// Calls to the service's /api with the session cookie; every failure becomes a message in words.

/** A call the service refused or could not answer; `message` is for people. */
export class ApiFailure extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Dispatched on window when the service says the session is over. */
export const SIGNED_OUT = "console:signed-out";

/**
 * @template T
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<T>}
 */
export async function api(path, options = {}) {
  const { method = "GET", body } = options;
  let answer;
  try {
    answer = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, "The service cannot be reached. Check the connection and try again.");
  }
  if (answer.status === 401 && path.startsWith("/api/")) {
    window.dispatchEvent(new Event(SIGNED_OUT));
    throw new ApiFailure(401, "You are signed out. Sign in again with an api token.");
  }
  if (!answer.ok) {
    /** @type {{ message?: string } | null} */
    const problem = await answer.json().catch(() => null);
    throw new ApiFailure(answer.status, problem?.message ?? `The service answered ${answer.status} ${answer.statusText}.`);
  }
  return answer.status === 204 ? /** @type {T} */ (undefined) : answer.json();
}

/**
 * A query string from the defined values, dates as ISO 8601.
 * @param {Record<string, string | Date | undefined>} values
 */
export function query(values) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== "") params.set(key, value instanceof Date ? value.toISOString() : value);
  }
  return params.toString();
}
