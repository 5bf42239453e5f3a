// A TCP proxy in front of PostgreSQL that a test can cut: the database "goes down" for the service
// without touching the shared server.
import { createServer, type Server, type Socket, connect } from "node:net";

/**
 * "reset": every connection is closed at once and new ones are refused (a restart, a crash).
 * "blackhole": connections stay open but nothing passes either way (a dead link, a hung server).
 */
export type Cut = "reset" | "blackhole";

export class TcpProxy {
  private cutMode: Cut | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      if (proxy.cutMode === "reset") return client.destroy();
      proxy.track(client);
      if (proxy.cutMode === "blackhole") return;
      const upstream = connect(targetPort, targetHost);
      proxy.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.host = `127.0.0.1:${this.port}`;
    return u.toString();
  }

  cut(mode: Cut): void {
    this.cutMode = mode;
    if (mode === "reset") this.destroyAll();
    // A blackhole stops the traffic of open connections: unpiped and paused, no byte moves.
    else {
      for (const socket of this.sockets) {
        socket.unpipe();
        socket.pause();
      }
    }
  }

  /** Lets connections through again; those held by a blackhole are reset, as a dead link's would be. */
  restore(): void {
    this.destroyAll();
    this.cutMode = null;
  }

  async close(): Promise<void> {
    this.destroyAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
  }

  private destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
