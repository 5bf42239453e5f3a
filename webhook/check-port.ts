// The service's port, tried before anything is written: a busy port is told at once, not after a database was
// migrated and tokens generated. The port is let go at once and taken by Fastify once the service is ready; in
// between, a caller is refused as by any closed port. (Holding the port meanwhile and handing it over reset
// callers right after the service had answered them: a handed-over port is not worth that.)
import { createServer } from "node:net";

/** Resolves once `port` on `host` could be listened on, and has been let go again; rejects saying why not. */
export async function checkPort(port: number, host: string): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const where = `port ${port} on ${host}`;
      if (error.code === "EADDRINUSE") reject(new Error(`${where} is already in use by another program: stop it, or set PORT to a free port`));
      else if (error.code === "EACCES") reject(new Error(`${where} may not be opened by this user (ports below 1024 need privileges): set PORT to 1024 or above`));
      else if (error.code === "EADDRNOTAVAIL") reject(new Error(`${where}: ${host} is not an address of this machine; set HOST to one (0.0.0.0 for all)`));
      else reject(new Error(`${where}: ${error.message}`));
    });
    server.listen({ port, host, exclusive: true }, resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
