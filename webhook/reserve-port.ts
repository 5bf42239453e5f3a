// The service's port, bound before anything is written: a busy port is told at once, not after a database
// was migrated and tokens generated. The reservation is handed back just before Fastify listens on it.
import { createServer } from "node:net";

export interface PortReservation {
  release(): Promise<void>;
}

export async function reservePort(port: number, host: string): Promise<PortReservation> {
  // Whoever calls meanwhile (a health check) is hung up on at once, as a closed port would refuse them,
  // rather than left waiting on a connection nobody answers.
  const server = createServer((socket) => socket.destroy());
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
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
