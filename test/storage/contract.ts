import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import { ConcurrentUpdateError } from "../../shared/storage/ports/errors.js";
import type { AuthStorage } from "../../shared/storage/ports/identity-storage.js";
import type { MessageReceiver, MessageSender } from "../../shared/storage/ports/message-queue.js";
import type { UploadSession } from "../../shared/storage/ports/metadata-store.js";
import type { RegistryStorage } from "../../shared/storage/ports/registry-storage.js";
import type { DeadLetterStore, SubscriptionStore } from "../../shared/storage/ports/webhook-storage.js";

/** What a storage backend provides, as the contract sees it. */
export interface StorageUnderTest {
  registry: RegistryStorage;
  auth: AuthStorage;
  webhooks: { subscriptions: SubscriptionStore; deadLetters: DeadLetterStore };
  queue(name: string): MessageSender<unknown> & MessageReceiver;
}

const digest = () => `sha256:${randomBytes(32).toString("hex")}`;
const blockId = (n: number) => Buffer.from(`block-${String(n).padStart(6, "0")}`).toString("base64");
const text = async (stream: ReadableStream<Uint8Array>) =>
  Buffer.from(await new Response(stream).arrayBuffer()).toString();

/**
 * The behaviour every implementation of the storage ports must have: what the registry,
 * auth and webhooks rely on (etag guards, atomic commits, order of listings). Run against the
 * Azure implementation on Azurite; a second backend gets the same suite for free.
 */
export function storageContract(name: string, open: () => Promise<StorageUnderTest>): void {
  describe(`storage contract: ${name}`, () => {
    let storage: StorageUnderTest;
    before(async () => {
      storage = await open();
    });

    describe("BlobStore", () => {
      it("assembles a blob from staged blocks, guarded by etags", async () => {
        const { blobs } = storage.registry;
        const name = `blobs/${randomBytes(8).toString("hex")}`;
        assert.deepEqual(await blobs.committedBlocks(name), [], "an unknown blob has no blocks");
        await blobs.stageBlock(name, blockId(0), Buffer.from("hello "));
        const etag = await blobs.commitBlocks(name, [blockId(0)], null);
        await assert.rejects(blobs.commitBlocks(name, [blockId(0)], null), ConcurrentUpdateError, "must not exist yet");
        await assert.rejects(blobs.commitBlocks(name, [blockId(0)], '"stale"'), ConcurrentUpdateError);
        // blocks staged after a commit append to it (a commit drops blocks staged before it and left out)
        await blobs.stageBlock(name, blockId(1), Buffer.from("world"));
        await blobs.commitBlocks(name, [blockId(0), blockId(1)], etag);
        assert.deepEqual(await blobs.committedBlocks(name), [blockId(0), blockId(1)]);
        assert.equal(await text(await blobs.read(name)), "hello world");
        assert.equal(await text(await blobs.read(name, 6, 3)), "wor");
        assert.equal(await text(await blobs.read(name, 6)), "world");
      });

      it("keeps a note with the bytes written in the same call; annotating changes the etag", async () => {
        const { blobs } = storage.registry;
        const name = `blobs/${randomBytes(8).toString("hex")}`;
        assert.equal(await blobs.stat(name), undefined, "no blob, no stat");
        const created = await blobs.create(name, Buffer.from("abc"), { digest: "sha256:x", hashState: "c3RhdGU=" });
        await assert.rejects(blobs.create(name, Buffer.from("abc")), ConcurrentUpdateError, "must not exist yet");
        assert.deepEqual(await blobs.stat(name), {
          etag: created,
          size: 3,
          note: { digest: "sha256:x", hashState: "c3RhdGU=" },
        });
        const frozen = await blobs.annotate(name, { digest: "sha256:x", frozen: true }, created);
        assert.notEqual(frozen, created, "the etag moves on");
        await assert.rejects(blobs.annotate(name, { digest: "sha256:y" }, created), ConcurrentUpdateError);
        await assert.rejects(
          blobs.commitBlocks(name, [], created),
          ConcurrentUpdateError,
          "the old etag writes nothing",
        );
        assert.deepEqual(await blobs.stat(name), { etag: frozen, size: 3, note: { digest: "sha256:x", frozen: true } });
        await assert.rejects(blobs.annotate(`${name}-none`, { digest: "sha256:x" }, created), ConcurrentUpdateError);
        await blobs.delete(name);
      });

      it("puts and reads small blobs whole, deletes idempotently, and may sign a read URL", async () => {
        const { blobs } = storage.registry;
        const name = `manifests/${randomBytes(8).toString("hex")}`;
        await blobs.put(name, Buffer.from("{}"));
        assert.equal(Buffer.from(await blobs.readAll(name)).toString(), "{}");
        const url = await blobs.signedReadUrl(name, 60);
        if (url !== undefined) assert.equal(await (await fetch(url)).text(), "{}");
        await blobs.delete(name);
        await blobs.delete(name);
        assert.deepEqual(await blobs.committedBlocks(name), []);
      });

      it("discards blocks staged for a blob never committed, and leaves a committed blob alone", async () => {
        const { blobs } = storage.registry;
        const fresh = `blobs/${randomBytes(16).toString("hex")}`;
        const id = Buffer.from("nonce-000000").toString("base64");
        await blobs.stageBlock(fresh, id, Buffer.from("staged"));
        await blobs.discardStaged(fresh);
        assert.equal(await blobs.stat(fresh), undefined, "no blob is left");
        await assert.rejects(blobs.commitBlocks(fresh, [id], null), "the staged block is gone");

        const committed = `blobs/${randomBytes(16).toString("hex")}`;
        const etag = await blobs.create(committed, Buffer.from("kept"), { digest: "sha256:kept" });
        await blobs.stageBlock(committed, id, Buffer.from(" and more"));
        await blobs.discardStaged(committed);
        assert.equal((await blobs.stat(committed))?.etag, etag, "untouched");
        const first = Buffer.from("nonce-000001").toString("base64");
        await blobs.stageBlock(committed, first, Buffer.from("kept"));
        await blobs.commitBlocks(committed, [first, id], etag);
        assert.equal(
          Buffer.from(await blobs.readAll(committed)).toString(),
          "kept and more",
          "its staged block stayed",
        );
      });

      it("deletes on an etag condition only while the blob still has that etag", async () => {
        const { blobs } = storage.registry;
        const name = `blobs/${randomBytes(16).toString("hex")}`;
        const first = await blobs.create(name, Buffer.from("first"), { digest: "sha256:first", frozen: true });
        const second = await blobs.annotate(name, { digest: "sha256:first", frozen: true, cancelled: true }, first);
        await blobs.delete(name, first);
        assert.equal((await blobs.stat(name))?.etag, second, "changed since: kept");
        assert.deepEqual((await blobs.stat(name))?.note, { digest: "sha256:first", frozen: true, cancelled: true });
        await blobs.delete(name, second);
        assert.equal(await blobs.stat(name), undefined);
        await blobs.delete(name, second); // gone already: no error
      });
    });

    describe("MetadataStore", () => {
      const repo = () => `contract/${randomBytes(4).toString("hex")}`;

      it("indexes each digest once (the first record stands) and shows blobs only where linked", async () => {
        const { metadata } = storage.registry;
        const d = digest();
        const first = { digest: d, blobName: "blobs/first", size: 5 };
        assert.deepEqual(await metadata.insertBlob(first), first);
        assert.deepEqual(await metadata.insertBlob({ digest: d, blobName: "blobs/second", size: 5 }), first);
        assert.deepEqual(await metadata.getBlob(d), first);
        const [a, b] = [repo(), repo()];
        await metadata.linkBlob(a, first);
        assert.deepEqual(await metadata.getLinkedBlob(a, d), first);
        assert.equal(await metadata.getLinkedBlob(b, d), undefined);
        assert.equal(await metadata.unlinkBlob(a, d), true);
        assert.equal(await metadata.unlinkBlob(a, d), false);
        assert.equal(await metadata.getLinkedBlob(a, d), undefined);
      });

      it("records upload sessions once, completes one atomically, and replaces a cancelled one by a marker", async () => {
        const { metadata } = storage.registry;
        const repository = repo();
        const session: UploadSession = {
          repository,
          id: randomBytes(16).toString("hex"),
          offset: 5_000_000_000,
          blobEtag: '"e1"',
          hashState: "state",
          startedAt: "2020-01-01T00:00:00.000Z",
        };
        assert.equal(await metadata.createUpload(session, session.startedAt), true);
        assert.equal(await metadata.createUpload(session, session.startedAt), false, "a second insert leaves the row");
        assert.deepEqual(await metadata.getUpload(repository, session.id), session, "sizes beyond 32 bits");
        assert.equal(await metadata.countUploads(repository, "", "2019-12-31T00:00:00.000Z", 10), 1);
        assert.equal(await metadata.countUploads(repository, "", "2020-01-02T00:00:00.000Z", 10), 0, "admitted before");
        const old = await metadata.listUploadsStartedBefore("2020-01-02T00:00:00.000Z");
        assert.ok(old.some((s) => s.id === session.id));
        assert.ok(
          !(await metadata.listUploadsStartedBefore("2019-12-31T00:00:00.000Z")).some((s) => s.id === session.id),
        );
        const record = { digest: digest(), blobName: `blobs/${session.id}`, size: 5_000_000_000 };
        await metadata.completeUpload(repository, session.id, record);
        assert.equal(await metadata.getUpload(repository, session.id), undefined);
        assert.deepEqual(await metadata.getLinkedBlob(repository, record.digest), record);
        await assert.rejects(metadata.completeUpload(repository, session.id, record), ConcurrentUpdateError);
        await metadata.deleteUpload(session); // gone already: no error

        // cancelled: with a row (replaced in one transaction) and without one (the marker alone)
        const cancelled = { ...session, id: randomBytes(16).toString("hex") };
        await metadata.createUpload(cancelled, cancelled.startedAt);
        await metadata.cancelUpload(cancelled);
        const fresh = { ...session, id: randomBytes(16).toString("hex") };
        await metadata.cancelUpload(fresh);
        assert.equal(await metadata.getUpload(repository, cancelled.id), undefined);
        assert.equal(await metadata.countUploads(repository, "", "2019-12-31T00:00:00.000Z", 10), 0);
        await assert.rejects(metadata.completeUpload(repository, cancelled.id, record), ConcurrentUpdateError);
        const listed = (await metadata.listUploadsStartedBefore("2020-01-02T00:00:00.000Z")).filter(
          (s) => s.id === cancelled.id || s.id === fresh.id,
        );
        assert.deepEqual(
          listed.map((s) => s.cancelled),
          [true, true],
        );
        for (const marker of listed) await metadata.deleteUpload(marker);
        const left = await metadata.listUploadsStartedBefore("2020-01-02T00:00:00.000Z");
        assert.ok(!left.some((s) => s.id === cancelled.id || s.id === fresh.id), "the purge removes markers");
      });

      it("stores a manifest with its tag and referrer entry, and deletes them together", async () => {
        const { metadata } = storage.registry;
        const repository = repo();
        const subject = digest();
        const content = Buffer.from('{"schemaVersion":2}');
        const manifest = {
          digest: digest(),
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          size: content.byteLength,
          content,
          subject,
          artifactType: "application/vnd.example.sig",
          annotations: { "org.example": "a" },
          createdAt: "2024-01-01T00:00:00.000Z",
        };
        await metadata.putManifest(repository, manifest, "v1");
        const tag = await metadata.getTag(repository, "v1");
        assert.equal(tag?.digest, manifest.digest);
        assert.deepEqual(Buffer.from(tag?.content as Uint8Array), content, "small manifests ride in the tag row");
        assert.deepEqual(
          await metadata.getTag(repository, "v1", { content: false }),
          { tag: "v1", digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size },
          "a HEAD's read leaves the manifest behind",
        );
        assert.equal((await metadata.getManifest(repository, manifest.digest))?.mediaType, manifest.mediaType);
        assert.deepEqual(await metadata.listReferrers(repository, subject), [
          {
            digest: manifest.digest,
            mediaType: manifest.mediaType,
            size: manifest.size,
            artifactType: manifest.artifactType,
            annotations: manifest.annotations,
          },
        ]);
        await metadata.putManifest(repository, manifest, "v2");
        assert.equal(await metadata.deleteTag(repository, "v2"), true);
        assert.equal(await metadata.deleteTag(repository, "v2"), false);
        assert.equal(await metadata.deleteManifest(repository, manifest.digest), true);
        assert.equal(await metadata.getTag(repository, "v1"), undefined, "its tags went with it");
        assert.deepEqual(await metadata.listReferrers(repository, subject), []);
        assert.equal(await metadata.deleteManifest(repository, manifest.digest), false);
      });

      it("re-tags a stored manifest in one commit, and writes nothing for one not stored", async () => {
        const { metadata } = storage.registry;
        const repository = repo();
        const manifest = {
          digest: digest(),
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          size: 19,
          content: Buffer.from('{"schemaVersion":2}'),
          createdAt: "2024-01-01T00:00:00.000Z",
        };
        assert.equal(await metadata.putManifestIfStored(repository, manifest, "v1"), false);
        assert.equal(await metadata.getTag(repository, "v1"), undefined, "no tag without its manifest");
        assert.equal(await metadata.getManifest(repository, manifest.digest), undefined);
        await metadata.putManifest(repository, manifest, "v1");
        const again = { ...manifest, createdAt: "2024-02-02T00:00:00.000Z" };
        assert.equal(await metadata.putManifestIfStored(repository, again, "v2"), true);
        assert.equal(await metadata.putManifestIfStored(repository, again), true, "by digest: no tag");
        assert.equal((await metadata.getTag(repository, "v2"))?.digest, manifest.digest);
        assert.deepEqual(
          Buffer.from((await metadata.getTag(repository, "v2"))?.content as Uint8Array),
          manifest.content,
        );
        const stored = await metadata.getManifest(repository, manifest.digest);
        assert.equal(stored?.createdAt, again.createdAt);
        // the rest of the row is the first push's, untouched by the re-tags
        assert.deepEqual(Buffer.from(stored?.content as Uint8Array), manifest.content);
        assert.equal(stored?.mediaType, manifest.mediaType);
        assert.equal(stored?.size, manifest.size);
        assert.equal(await metadata.deleteManifest(repository, manifest.digest), true);
        assert.equal(await metadata.putManifestIfStored(repository, manifest, "v3"), false, "deleted: not stored");
        assert.equal(await metadata.getTag(repository, "v3"), undefined);
      });

      it("lists tags and repositories in lexical order, a page at a time", async () => {
        const { metadata } = storage.registry;
        const repository = repo();
        const manifest = { digest: digest(), mediaType: "x", size: 1, createdAt: "2024-01-01T00:00:00.000Z" };
        const tags = ["b", "a", "a-1", "a.1", "A", "_z", "c"];
        for (const tag of tags) await metadata.putManifest(repository, manifest, tag);
        const sorted = [...tags].sort();
        assert.deepEqual(await metadata.listTags(repository, undefined, 100), { items: sorted, more: false });
        assert.deepEqual(await metadata.listTags(repository, undefined, 3), { items: sorted.slice(0, 3), more: true });
        assert.deepEqual(await metadata.listTags(repository, sorted[2], 3), { items: sorted.slice(3, 6), more: true });
        const prefix = `catalog${randomBytes(3).toString("hex")}`;
        const names = [`${prefix}/b`, `${prefix}/a-b`, `${prefix}/a.b`, `${prefix}/a/b`, `${prefix}/a`];
        for (const name of names) await metadata.addRepository(name);
        await metadata.addRepository(names[0] as string);
        assert.ok(await metadata.hasRepository(names[0] as string));
        assert.equal(await metadata.hasRepository(`${prefix}/none`), false);
        const listed = await metadata.listRepositories(`${prefix}-`.slice(0, -1), 1000);
        assert.deepEqual(
          listed.items.filter((n) => n.startsWith(`${prefix}/`)),
          [...names].sort(),
        );
      });
    });

    describe("AuthStorage", () => {
      it("keeps identities in one namespace, refresh tokens by subject, and failure counts under an etag", async () => {
        const { identities, refreshTokens, loginFailures } = storage.auth;
        const name = `user-${randomBytes(4).toString("hex")}`;
        const record = {
          kind: "user" as const,
          name,
          secretHash: "scrypt$x",
          access: ["repository:*:pull"],
          createdAt: "2024-01-01T00:00:00.000Z",
          epoch: "e1",
        };
        assert.equal(await identities.create(record), true);
        assert.equal(await identities.create({ ...record, kind: "token" }), false, "one namespace");
        assert.equal(await identities.replace({ ...record, epoch: "e2" }), true);
        assert.equal((await identities.get(name))?.epoch, "e2");
        assert.ok((await identities.list("user")).some((i) => i.name === name));
        assert.ok(!(await identities.list("token")).some((i) => i.name === name));
        for (const id of ["a", "b"].map((c) => c.repeat(32))) {
          await refreshTokens.create({
            id,
            secretHash: "h",
            subject: name,
            epoch: "e2",
            clientId: "docker",
            createdAt: "x",
            expiresAt: "y",
          });
        }
        assert.equal((await refreshTokens.get("a".repeat(32)))?.subject, name);
        assert.equal(await refreshTokens.deleteForSubject(name), 2);
        assert.equal(await refreshTokens.get("b".repeat(32)), undefined);
        assert.equal(await identities.delete(name), true);
        assert.equal(await identities.delete(name), false);

        const key = `address:10.0.0.${randomBytes(1)[0]}`;
        assert.equal(await loginFailures.save(key, { count: 1, lastFailureAt: 1 }, undefined), true);
        assert.equal(await loginFailures.save(key, { count: 1, lastFailureAt: 1 }, undefined), false, "exists already");
        const current = await loginFailures.get(key);
        assert.equal(await loginFailures.save(key, { count: 2, lastFailureAt: 2 }, current?.etag), true);
        assert.equal(await loginFailures.save(key, { count: 3, lastFailureAt: 3 }, current?.etag), false, "stale etag");
        assert.equal((await loginFailures.get(key))?.failures.count, 2);
        await loginFailures.clear(key);
        assert.equal(await loginFailures.get(key), undefined);
      });
    });

    describe("webhook stores and queues", () => {
      it("keeps subscriptions by name and dead letters oldest first", async () => {
        const { subscriptions, deadLetters } = storage.webhooks;
        const name = `hook-${randomBytes(4).toString("hex")}`;
        assert.equal(await subscriptions.create({ name, url: "http://x.test/" }), true);
        assert.equal(await subscriptions.create({ name, url: "http://y.test/" }), false);
        assert.deepEqual(await subscriptions.get(name), { name, url: "http://x.test/" });
        const letters = [];
        for (const attempts of [1, 2]) {
          letters.push(
            await deadLetters.add({
              subscription: name,
              event: { id: attempts },
              attempts,
              lastOutcome: "HTTP 500",
              failedAt: "t",
            }),
          );
        }
        assert.deepEqual(
          (await deadLetters.list(name)).map((l) => l.attempts),
          [1, 2],
        );
        assert.deepEqual((await deadLetters.get(letters[0]?.id as string))?.event, { id: 1 });
        assert.equal(await deadLetters.delete(letters[0]?.id as string), true);
        assert.equal(await subscriptions.delete(name), true);
        assert.equal(await subscriptions.get(name), undefined);
      });

      it("delivers queued JSON with leases: renewed, removed, or moved to the poison queue", async () => {
        const queue = storage.queue(`contract-${randomBytes(4).toString("hex")}`);
        await queue.send({ n: 1 });
        await queue.send({ n: 2 }, 3600); // hidden for an hour
        const [message, ...rest] = await queue.receive(32, 30);
        assert.equal(rest.length, 0, "the delayed message is not visible yet");
        assert.deepEqual(JSON.parse(message?.text as string), { n: 1 });
        assert.equal(message?.dequeueCount, 1);
        await message?.renew(30);
        assert.deepEqual(await queue.receive(32, 30), [], "leased messages are invisible");
        await message?.remove();
        await queue.send({ n: 3 });
        const [poisoned] = await queue.receive(1, 1);
        await poisoned?.poison();
        const poison = storage.queue(`${queue.name}-poison`);
        assert.deepEqual(JSON.parse((await poison.receive(1, 30))[0]?.text as string), { n: 3 });
      });
    });
  });
}
