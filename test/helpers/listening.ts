import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Stops a test server now: open keep-alive connections are cut, then it stops listening. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts `server` on a free loopback port; `close` stops it as closeServer does. */
export async function listenOnLoopback(server: Server): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server) };
}
