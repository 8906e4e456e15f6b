import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import functions from "@azure/functions";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeliveryTask } from "../../shared/webhooks/delivery-task.js";
import { JsonQueue } from "../../shared/storage/azure/json-queue.js";
import { useAzurite } from "../helpers/azurite.js";
import { Receiver, verifyAsReceiver } from "./receiver.js";
import { sampleEvent } from "./support.js";
import { connectAzureStorage } from "../../shared/storage/azure/azure-storage.js";

const { InvocationContext } = functions;
const SECRET = "functions-secret-0123456789";

/**
 * The queue triggers of functions/webhook-delivery.ts, called as the Functions host calls
 * them: with the message (parsed JSON, as the host hands it over) and the library's own
 * InvocationContext (the Core Tools cannot be installed here).
 */
describe("Azure Functions webhook triggers (functions/webhook-delivery.ts)", () => {
  const azurite = useAzurite();
  let receiver: Receiver;
  let module: typeof import("../../functions/webhook-delivery.js");
  let deliveries: JsonQueue<DeliveryTask>;
  const context = () => new InvocationContext({ logHandler() {} });

  before(async () => {
    receiver = await Receiver.start();
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_TABLE_PREFIX: `fnw${id}`,
      STOWAGE_EVENT_QUEUE: `fnw-${id}`,
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-fnw-secrets-")),
      STOWAGE_WEBHOOK_MAX_ATTEMPTS: "2",
      STOWAGE_WEBHOOK_BACKOFF_MS: "1000",
      STOWAGE_WEBHOOKS: JSON.stringify([
        { name: "all", url: receiver.url("/all"), secret: SECRET },
        { name: "other", url: receiver.url("/other"), repositories: ["other/*"] },
      ]),
    });
    module = await import("../../functions/webhook-delivery.js");
    deliveries = new JsonQueue<DeliveryTask>(azurite().connectionString, `fnw-${id}-deliveries`);
  });
  after(() => receiver.down());

  /** Takes the delivery tasks queued so far (waiting out the retry delay when asked). */
  async function takeTasks(): Promise<DeliveryTask[]> {
    const messages = await deliveries.receive(32, 30);
    await Promise.all(messages.map((m) => m.remove()));
    return messages.map((m) => JSON.parse(m.text) as DeliveryTask);
  }

  it("the event trigger queues one delivery task per matching subscription", async () => {
    await module.webhookEventHandler(sampleEvent, context());
    const tasks = await takeTasks();
    assert.deepEqual(tasks, [{ subscription: "all", event: sampleEvent, attempt: 1 }]);
  });

  it("a foreign message fails the invocation, so the host retries it and then parks it in the poison queue", async () => {
    await assert.rejects(module.webhookEventHandler({ hello: "world" }, context()), /not a registry event/);
    await assert.rejects(module.webhookDeliveryHandler("not json", context()));
  });

  it("the delivery trigger POSTs the signed envelope; a failure queues the next attempt, delayed", async () => {
    const task: DeliveryTask = { subscription: "all", event: sampleEvent, attempt: 1 };
    await module.webhookDeliveryHandler(JSON.stringify(task), context());
    const [request] = receiver.at("/all");
    assert.deepEqual(JSON.parse(request?.body ?? ""), { events: [sampleEvent] });
    assert.ok(verifyAsReceiver(SECRET, request?.body ?? "", request?.headers["stowage-signature"]));

    receiver.statuses.set("/all", 503);
    await module.webhookDeliveryHandler(task, context());
    assert.deepEqual(await takeTasks(), [], "the retry is invisible during its backoff");
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const [retry] = await takeTasks();
    assert.deepEqual(retry, { ...task, attempt: 2 });

    // the last attempt fails too: a dead letter, nothing queued
    await module.webhookDeliveryHandler(retry, context());
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.deepEqual(await takeTasks(), []);
    assert.equal(receiver.at("/all").length, 3);
    const { deadLetters } = connectAzureStorage({
      connectionString: azurite().connectionString,
      container: "unused",
      tablePrefix: process.env.STOWAGE_TABLE_PREFIX as string,
    }).webhooks;
    const letters = await deadLetters.list("all");
    assert.deepEqual(
      letters.map((l) => [l.event, l.attempts, l.lastOutcome]),
      [[sampleEvent, 2, "HTTP 503"]],
    );
  });
});
