import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createHttpHeaders, RestError, type Pipeline, type PipelineRequest } from "@azure/core-rest-pipeline";
import { newPipeline, QueueClient, QueueServiceClient, StorageSharedKeyCredential } from "@azure/storage-queue";
import { blobQueueVersionPolicy } from "../../shared/storage/azure/api-version-policy.js";
import { QUEUE_SDK_API_VERSION, sendBase64Message } from "../../shared/storage/azure/queue-send.js";
import {
  addPipelinePolicy,
  storageCallPolicy,
  type StorageCall,
} from "../../shared/storage/azure/storage-call-policy.js";
import { useAzurite } from "../helpers/azurite.js";

/**
 * The lean queue message must be sent exactly as the SDK's `sendMessage` sends it (same URL,
 * headers and XML body), land as the same message, go through the client's pipeline (pinned API
 * version, call metrics) and fail with a RestError carrying the status.
 */
const PINNED = "2019-12-12";
const TEXTS = ['{"id":"1","target":{"tag":"<&>\'\\""}}', "ünïcødé 🐳", "x".repeat(48_000)];
const WEEK = 7 * 24 * 3600;

/** A client of `url` that records each request as sent (after signing) and answers 201 itself (no network). */
function recorder(url: string, requests: PipelineRequest[], credential?: StorageSharedKeyCredential): QueueClient {
  const queue = credential ? new QueueClient(url, credential) : new QueueClient(url);
  const { pipeline } = (queue as unknown as { storageClientContext: { pipeline: Pipeline } }).storageClientContext;
  pipeline.addPolicy(
    {
      name: "record",
      sendRequest: async (request) => {
        requests.push(request);
        const body =
          '<?xml version="1.0" encoding="utf-8"?><QueueMessagesList><QueueMessage><MessageId>m</MessageId><InsertionTime>Sat, 05 Dec 2026 04:30:25 GMT</InsertionTime><ExpirationTime>Sat, 12 Dec 2026 04:30:25 GMT</ExpirationTime><PopReceipt>p</PopReceipt><TimeNextVisible>Sat, 05 Dec 2026 04:30:25 GMT</TimeNextVisible></QueueMessage></QueueMessagesList>';
        return {
          request,
          status: 201,
          headers: createHttpHeaders({ "content-type": "application/xml" }),
          bodyAsText: body,
        };
      },
    },
    { afterPhase: "Sign" },
  );
  return queue;
}

/** What goes on the wire, less what differs per call (ids, dates, signature). */
function wire(request: PipelineRequest) {
  const headers = Object.fromEntries(
    [...request.headers].filter(
      ([name]) => !["x-ms-client-request-id", "x-ms-date", "authorization"].includes(name.toLowerCase()),
    ),
  );
  return {
    method: request.method,
    url: request.url,
    headers,
    body: request.body,
    insecure: request.allowInsecureConnection,
  };
}

describe("queue message (lean sendMessage)", () => {
  const azurite = useAzurite();
  const calls: StorageCall[] = [];
  const versions: string[] = [];
  let queue: QueueClient;
  let credential: StorageSharedKeyCredential;

  before(async () => {
    const { connectionString } = azurite();
    const parsed = QueueServiceClient.fromConnectionString(connectionString);
    const setting = (name: string) => new RegExp(`${name}=([^;]+)`).exec(connectionString)![1]!;
    credential = new StorageSharedKeyCredential(setting("AccountName"), setting("AccountKey"));
    const pipeline = newPipeline(credential);
    pipeline.factories.push(blobQueueVersionPolicy(PINNED));
    const service = new QueueServiceClient(parsed.url, pipeline);
    addPipelinePolicy(
      service,
      storageCallPolicy("queue", (call) => calls.push(call)),
    );
    addPipelinePolicy(service, {
      name: "recordVersion",
      sendRequest: (request, next) => {
        versions.push(request.headers.get("x-ms-version") ?? "");
        return next(request);
      },
    });
    queue = service.getQueueClient("leansend");
    await queue.create();
  });

  it("sends the same request as sendMessage (account key and SAS URLs)", async () => {
    const requests: PipelineRequest[] = [];
    const clients = [
      recorder(queue.url, requests, credential),
      recorder(`${queue.url}?sv=2019-12-12&se=2030-01-01T00%3A00%3A00Z&sp=a&sig=a%2Fb%3D`, requests),
    ];
    for (const client of clients) {
      for (const text of TEXTS) {
        for (const delay of [0, 30]) {
          await client.sendMessage(Buffer.from(text).toString("base64"), {
            messageTimeToLive: WEEK,
            visibilityTimeout: delay,
          });
          await sendBase64Message(client, text, { timeToLiveSeconds: WEEK, visibilitySeconds: delay });
          const [sdk, lean] = requests.splice(0);
          assert.deepEqual(wire(lean!), wire(sdk!));
          assert.equal(sdk!.headers.get("x-ms-version"), QUEUE_SDK_API_VERSION);
        }
      }
    }
  });

  it("queues the message, visible after its delay", async () => {
    for (const text of TEXTS) await sendBase64Message(queue, text, { timeToLiveSeconds: WEEK, visibilitySeconds: 0 });
    await sendBase64Message(queue, "later", { timeToLiveSeconds: WEEK, visibilitySeconds: 60 });
    const { receivedMessageItems: items } = await queue.receiveMessages({ numberOfMessages: 32 });
    assert.deepEqual(
      items.map((item) => Buffer.from(item.messageText, "base64").toString("utf8")),
      TEXTS,
    );
    for (const item of items) {
      assert.equal((item.expiresOn.getTime() - item.insertedOn.getTime()) / 1000, WEEK);
      await queue.deleteMessage(item.messageId, item.popReceipt);
    }
  });

  it("fails with a RestError carrying the status (a missing queue)", async () => {
    const missing = queue.url.replace(/leansend$/, "nosuchqueue");
    const client = new QueueClient(missing, credential);
    const error = await sendBase64Message(client, "x", { timeToLiveSeconds: WEEK, visibilitySeconds: 0 }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof RestError);
    assert.equal(error.statusCode, 404);
    assert.equal(error.code, "QueueNotFound");
  });

  it("goes through the client's pipeline: pinned API version, counted as sendMessage is", async () => {
    const recorded = async (send: () => Promise<unknown>) => {
      calls.length = 0;
      versions.length = 0;
      await send();
      assert.deepEqual(versions, [PINNED]);
      return calls.map(({ service, operation, status }) => ({ service, operation, status }));
    };
    assert.deepEqual(
      await recorded(() => sendBase64Message(queue, "metered", { timeToLiveSeconds: WEEK, visibilitySeconds: 0 })),
      await recorded(() => queue.sendMessage(Buffer.from("metered").toString("base64"), { messageTimeToLive: WEEK })),
    );
  });
});
