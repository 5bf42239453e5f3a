// A database call held to a deadline, so that what waits on it (a request, a readiness probe) does not hang with it.

/** `work`, or a rejection with `message` once `ms` have passed, whichever comes first; the timer ends with the race. */
export function timeLimit<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  // The race listens to `work` too, so a rejection after the deadline is not left unhandled.
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
