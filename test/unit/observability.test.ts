import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routeTemplate } from "../../shared/http/route-template.js";
import { requestId } from "../../shared/http/request-id.js";
import { logWriter } from "../../shared/lib/log-writer.js";
import { boundedLabel } from "../../shared/observability/metrics.js";
import { operationOf } from "../../shared/storage/azure/storage-call-policy.js";

describe("observability: labels and ids stay bounded", () => {
  it("turns route patterns into templates, never into paths", () => {
    assert.equal(routeTemplate(/^\/v2\/?$/), "/v2/");
    assert.equal(
      routeTemplate(/^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]*)$/),
      "/v2/{name}/manifests/{reference}",
    );
    assert.equal(routeTemplate(/^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/), "/v2/{name}/blobs/uploads/");
    assert.equal(routeTemplate(/^\/api\/(a|b)$/), "other");
  });

  it("names storage operations from the request's shape, not its names", () => {
    const blob = "http://127.0.0.1:1/devstoreaccount1/registry/uploads/team%2Fapp/abc";
    assert.equal(operationOf("blob", "PUT", `${blob}?comp=block&blockid=x`), "PUT block");
    assert.equal(operationOf("blob", "GET", blob), "GET blob");
    assert.equal(operationOf("blob", "PUT", "http://h/acct/registry?restype=container"), "PUT container");
    assert.equal(operationOf("table", "POST", "http://h/acct/$batch"), "POST batch");
    assert.equal(operationOf("table", "GET", "http://h/acct/tauth(PartitionKey='team',RowKey='x')"), "GET entity");
    assert.equal(operationOf("table", "GET", "http://h/acct/tauth()?$filter=x"), "GET entity");
    assert.equal(operationOf("table", "GET", "http://h/acct/tauth?$filter=x"), "GET query");
    assert.equal(operationOf("queue", "POST", "http://h/acct/events/messages"), "POST messages");
    assert.equal(operationOf("queue", "DELETE", "http://h/acct/events/messages/123?popreceipt=x"), "DELETE message");
    assert.equal(operationOf("blob", "GET", `${blob}?comp=Weird%20Value`), "GET other");
  });

  it("accepts a request id only from a trusted proxy, and only a harmless one", () => {
    const withId = (id: string) => new Request("http://r.test/v2/", { headers: { "x-request-id": id } });
    assert.equal(requestId(withId("proxy-id-1"), true), "proxy-id-1");
    assert.notEqual(requestId(withId("proxy-id-1"), false), "proxy-id-1");
    assert.notEqual(requestId(withId('bad"id {x}'), true), 'bad"id {x}');
    assert.match(requestId(withId("x".repeat(200)), true), /^[0-9a-f-]{36}$/);
  });

  it("replaces unexpected label values", () => {
    assert.equal(boundedLabel("POST batch"), "POST batch");
    assert.equal(boundedLabel("team/app\n"), "other");
    assert.equal(boundedLabel("x".repeat(100)), "other");
  });
});

describe("observability: log lines", () => {
  it("writes JSON lines off a terminal and readable text on one", (t) => {
    const printed: string[] = [];
    t.mock.method(console, "log", (line: string) => printed.push(line));
    logWriter("auto", false)({ level: "info", msg: "request", status: 200, error: new Error("boom") });
    logWriter("auto", true)({ level: "info", msg: "request", status: 200, route: "/v2/" });
    const json = JSON.parse(printed[0] as string) as Record<string, unknown>;
    assert.equal(json.msg, "request");
    assert.equal(json.error, "Error: boom");
    assert.match(json.time as string, /^\d{4}-\d\d-\d\dT/);
    assert.match(printed[1] as string, /^\S+Z INFO {2}request status=200 route=\/v2\/$/);
  });
});
