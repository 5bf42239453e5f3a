// PGlite runs a query to its end on this thread and resolves it at once, so a loop of awaited queries runs
// from one microtask to the next and never lets the event loop read a socket: a 10,000-plug bulk request
// held every uplink, and /healthz, until it ended. Work done item by item takes turns: before each item,
// what is waiting (requests that arrived, the writer's next batch) runs first. On PostgreSQL, whose queries
// are real I/O, a turn costs next to nothing.

/** Resolves after the event loop has read its sockets and run what was scheduled before this call. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
