import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/** An HTTP CONNECT proxy on loopback that sends one host name to one local port. */
export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY. */
  url: string;
  /** The `host:port` targets clients asked for, in order. */
  readonly tunnels: string[];
  close(): Promise<void>;
}

/**
 * Lets a client reach the loopback registry under a DNS name it cannot resolve (`*.test`):
 * dockerd treats every registry whose address is in 127.0.0.0/8 as insecure and skips
 * certificate checks, so a test that must see Docker verify the chain has to name the
 * registry by a host name instead, the way users do, and tunnel to it. Only `hostName`
 * is tunnelled (to 127.0.0.1 on the port asked for); anything else is refused.
 */
export async function startConnectProxy(hostName: string): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) {
        if (head.length > 8192) client.destroy();
        return;
      }
      client.off("data", onData);
      const match = /^CONNECT ([^\s:]+):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
      if (!match || match[1] !== hostName) {
        client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      tunnels.push(`${match[1]}:${match[2]}`);
      const upstream = connect({ host: "127.0.0.1", port: Number(match[2]) }, () => {
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      sockets.add(upstream);
      upstream.once("close", () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => client.destroy());
      client.once("close", () => upstream.destroy());
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
