import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../shared/app/config.js";
import { subscriptionMatches } from "../../shared/webhooks/filters.js";
import { DISTRIBUTION_EVENTS, renderEvent } from "../../shared/webhooks/formats.js";
import { retryDelaySeconds } from "../../shared/webhooks/retry-policy.js";
import { signatureHeader, verifySignature } from "../../shared/webhooks/signing.js";
import { describeSubscription, parseSubscription } from "../../shared/webhooks/subscription.js";
import { decodeMessage } from "../../shared/webhooks/webhook-service.js";
import { verifyAsReceiver } from "./receiver.js";
import { sampleEvent } from "./support.js";

/** The pure parts of webhook delivery: settings, filters, formats, signatures, backoff. */
describe("webhooks: settings, filters, formats, signatures", () => {
  it("reads STOWAGE_WEBHOOKS and the delivery settings, with production defaults", () => {
    const config = loadConfig({
      STOWAGE_WEBHOOKS: JSON.stringify([
        { name: "ci", url: "https://ci.example/hook", secret: "0123456789abcdef", actions: ["push"] },
        {
          name: "audit",
          url: "http://127.0.0.1:9/x",
          format: "cloudevents",
          timeoutMs: 500,
          headers: { "X-Key": "k" },
        },
      ]),
    });
    assert.deepEqual(
      config.webhooks.subscriptions.map((s) => s.name),
      ["ci", "audit"],
    );
    assert.deepEqual(config.webhooks.retry, { maxAttempts: 8, backoffMs: 10_000, maxBackoffMs: 3_600_000 });
    assert.equal(config.webhooks.timeoutMs, 10_000);
    assert.equal(loadConfig({}).webhooks.subscriptions.length, 0);
  });

  it("refuses bad subscriptions naming the variable, without echoing secrets", () => {
    const bad = (value: unknown, pattern: RegExp) => {
      assert.throws(
        () => loadConfig({ STOWAGE_WEBHOOKS: typeof value === "string" ? value : JSON.stringify(value) }),
        (error: Error) =>
          error instanceof ConfigError && pattern.test(error.message) && !/SUPERSECRET/.test(error.message),
      );
    };
    bad("[{", /STOWAGE_WEBHOOKS: not valid JSON/);
    bad([{ name: "a", url: "ftp://x" }], /STOWAGE_WEBHOOKS\.0\.url/);
    bad([{ url: "http://x" }], /STOWAGE_WEBHOOKS\.0\.name/);
    bad([{ name: "a", url: "http://x", secret: "SUPERSECRET" }], /STOWAGE_WEBHOOKS\.0\.secret: at least 16/);
    bad([{ name: "a", url: "http://x", actions: ["build"] }], /actions/);
    bad([{ name: "a", url: "http://x", format: "xml" }], /format/);
    bad([{ name: "a", url: "http://x", headers: { "Content-Type": "text/plain" } }], /reserved header/);
    bad([{ name: "a", url: "http://x", headers: { "X-A": "1\r\nX-B: 2" } }], /single-line/);
    bad([{ name: "a", url: "http://x", extra: 1 }], /extra/);
    bad(
      [
        { name: "a", url: "http://x" },
        { name: "a", url: "http://y" },
      ],
      /unique/,
    );
  });

  it("filters by action and repository pattern; no filter means everything", () => {
    const all = parseSubscription({ name: "all", url: "http://x" });
    const deletes = parseSubscription({ name: "d", url: "http://x", actions: ["delete"] });
    const team = parseSubscription({ name: "t", url: "http://x", repositories: ["team/*", "exact"] });
    assert.equal(subscriptionMatches(all, sampleEvent), true);
    assert.equal(subscriptionMatches(deletes, sampleEvent), false);
    assert.equal(subscriptionMatches(deletes, { ...sampleEvent, action: "delete" }), true);
    assert.equal(subscriptionMatches(team, sampleEvent), true);
    assert.equal(subscriptionMatches(team, { ...sampleEvent, target: { repository: "exact" } }), true);
    assert.equal(subscriptionMatches(team, { ...sampleEvent, target: { repository: "other/team/app" } }), false);
    assert.equal(subscriptionMatches(all, { ...sampleEvent, action: "ping" }), false, "pings are never fanned out");
  });

  it("renders the distribution envelope, the ACR body and a structured CloudEvent", () => {
    const distribution = renderEvent("distribution", sampleEvent);
    assert.equal(distribution.contentType, DISTRIBUTION_EVENTS);
    assert.deepEqual(JSON.parse(distribution.body), { events: [sampleEvent] });

    const acr = renderEvent("acr", sampleEvent);
    assert.equal(acr.contentType, "application/json");
    const acrTarget = { ...sampleEvent.target };
    delete acrTarget.url;
    assert.deepEqual(JSON.parse(acr.body), {
      id: sampleEvent.id,
      timestamp: sampleEvent.timestamp,
      action: "push",
      target: acrTarget,
      request: { id: "r1", host: "registry.test", method: "PUT", useragent: "skopeo" },
    });

    const cloud = renderEvent("cloudevents", sampleEvent);
    assert.equal(cloud.contentType, "application/cloudevents+json; charset=utf-8");
    assert.deepEqual(JSON.parse(cloud.body), {
      specversion: "1.0",
      id: sampleEvent.id,
      source: "http://registry.test",
      type: "io.stowage.registry.push",
      time: sampleEvent.timestamp,
      subject: "team/app:v1",
      datacontenttype: "application/json",
      data: sampleEvent,
    });
  });

  it("signs timestamp and body; a receiver rejects tampering, another secret and stale timestamps", () => {
    const secret = "s3cret-s3cret-s3cret";
    const now = Math.floor(Date.now() / 1000);
    const header = signatureHeader(secret, "{}", now);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifySignature(secret, "{}", header), true);
    assert.equal(verifyAsReceiver(secret, "{}", header), true, "the README's recipe agrees");
    assert.equal(verifySignature(secret, "{ }", header), false);
    assert.equal(verifySignature("another-secret-value", "{}", header), false);
    assert.equal(verifySignature(secret, "{}", header.replace(/^t=\d+/, `t=${now + 1}`)), false);
    const old = signatureHeader(secret, "{}", now - 301);
    assert.equal(verifySignature(secret, "{}", old), false);
    assert.equal(verifyAsReceiver(secret, "{}", old), false);
    assert.equal(verifySignature(secret, "{}", undefined), false);
  });

  it("backs off exponentially, capped, and stops after the last attempt", () => {
    const policy = { maxAttempts: 8, backoffMs: 10_000, maxBackoffMs: 300_000 };
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelaySeconds(policy, n));
    assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300, undefined]);
    assert.equal(retryDelaySeconds({ maxAttempts: 3, backoffMs: 400, maxBackoffMs: 10_000 }, 1), 1, "whole seconds");
  });

  it("lists subscriptions without secrets, header values or URL credentials", () => {
    const line = describeSubscription(
      parseSubscription({
        name: "x",
        url: "https://user:pw@hooks.example/x",
        secret: "0123456789abcdef-SECRET",
        headers: { Authorization: "Bearer TOKEN" },
      }),
      "storage",
    );
    assert.doesNotMatch(line, /SECRET|TOKEN|pw@/);
    assert.match(line, /signed=yes\theaders=Authorization/);
  });

  it("decodes queue messages handed over as text, bytes or parsed JSON", () => {
    assert.deepEqual(decodeMessage('{"a":1}'), { a: 1 });
    assert.deepEqual(decodeMessage(Buffer.from('{"a":1}')), { a: 1 });
    assert.deepEqual(decodeMessage({ a: 1 }), { a: 1 });
  });
});
