import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pushSmallImage } from "./small-image.js";
import { startStowage, type StowageOptions } from "./stowage-server.js";
import { measureTagPuts, type TagPuts } from "./tag-put-load.js";

export interface SubscribedTagPuts extends TagPuts {
  /** Webhook POSTs the receiver got by the end of the measurement (pushes are delivered as they come). */
  deliveries: number;
}

/**
 * The manifest PUT by tag rate with a webhook subscribed to pushes: every PUT then queues its
 * durable event before it answers, and the server's pollers fan it out and deliver it (to a
 * receiver in this process answering 204), on the same cores. A server of its own over the same
 * storage, with STOWAGE_WEBHOOKS set, and a repository of its own (a fresh partition).
 */
export async function measureSubscribedTagPuts(
  storage: Omit<StowageOptions, "env" | "cpuProfDir">,
  repository: string,
  options: { clients: number; seconds: number },
): Promise<SubscribedTagPuts> {
  let deliveries = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      deliveries++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  try {
    const subscription = { name: "bench", url, actions: ["push"] };
    const env = { STOWAGE_WEBHOOKS: JSON.stringify([subscription]), STOWAGE_WEBHOOK_POLL_MS: "1000" };
    const target = await startStowage({ ...storage, env }, "stowage-webhook");
    try {
      const image = await pushSmallImage(target, repository, {
        count: 2,
        size: 1024,
        concurrency: 2,
        mode: "monolithic",
      });
      const puts = await measureTagPuts(target, repository, image.manifestDigest, { ...options, fillTo: 0 });
      return { ...puts, deliveries };
    } finally {
      await target.child.stop();
    }
  } finally {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
}
