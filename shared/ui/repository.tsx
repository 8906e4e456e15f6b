import { useState } from "preact/hooks";
import { href } from "./routes.js";
import { call, getJson, isGranted } from "./session.js";
import {
  ConfirmButton,
  formatBytes,
  formatTime,
  Loading,
  Problem,
  registryHost,
  shortDigest,
  useLoad,
} from "./widgets.js";

interface TagSummary {
  tag: string;
  digest: string;
  mediaType: string;
  pushedAt: string;
  manifestSize: number;
  imageSize?: number;
  platforms?: { os?: string; architecture?: string; variant?: string }[];
}

const PAGE = 50;

export function platformName(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Copies a text to the clipboard; says so for screen readers too. */
function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="small"
      title={text}
      aria-label={`${label}: ${text}`}
      onClick={async () => {
        await navigator.clipboard.writeText(text).catch(() => prompt("Copy this command", text));
        setDone(true);
        setTimeout(() => setDone(false), 2000);
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

/** The tags of one repository, 50 at a time (a repository may hold tens of thousands). */
export function Repository({ name }: { name: string }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const last = cursors[cursors.length - 1];
  const pull = `repository:${name}:pull`;
  const { value, error, loading, reload } = useLoad(async () => {
    const query = new URLSearchParams({ n: String(PAGE) });
    if (last) query.set("last", last);
    const [page, mayDelete] = await Promise.all([
      getJson<{ tags: TagSummary[]; more: boolean }>(`/api/v1/repositories/${name}/tags?${query}`, pull),
      isGranted(`repository:${name}:delete`),
    ]);
    return { ...page, mayDelete };
  }, [name, last]);

  const deleteTag = async (tag: string) => {
    await call(`/v2/${name}/manifests/${encodeURIComponent(tag)}`, {
      method: "DELETE",
      scope: `repository:${name}:delete`,
    });
    reload();
  };

  return (
    <main>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href({ page: "repositories" })}>Repositories</a> / <span>{name}</span>
      </nav>
      <h1>{name}</h1>
      <Problem message={error} />
      <Loading when={loading} />
      {value && (
        <>
          {value.tags.length === 0 && <p>No tags.</p>}
          <table class="listing">
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col">Digest</th>
                <th scope="col">Size</th>
                <th scope="col">Pushed</th>
                <th scope="col">Platforms</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {value.tags.map((t) => (
                <tr key={t.tag}>
                  <td data-label="Tag">
                    <a href={href({ page: "manifest", name, reference: t.tag })}>{t.tag}</a>
                  </td>
                  <td data-label="Digest">
                    <a href={href({ page: "manifest", name, reference: t.digest })} class="mono">
                      {shortDigest(t.digest)}
                    </a>
                  </td>
                  <td data-label="Size">{formatBytes(t.imageSize ?? t.manifestSize)}</td>
                  <td data-label="Pushed">{formatTime(t.pushedAt)}</td>
                  <td data-label="Platforms">{t.platforms?.map(platformName).join(", ") ?? "–"}</td>
                  <td data-label="Actions">
                    <div class="actions">
                      <CopyButton label="Pull by tag" text={`docker pull ${registryHost}/${name}:${t.tag}`} />
                      <CopyButton label="Pull by digest" text={`docker pull ${registryHost}/${name}@${t.digest}`} />
                      {value.mayDelete && (
                        <ConfirmButton
                          label="Delete tag"
                          question={`Delete the tag ${t.tag}? The manifest stays.`}
                          onConfirm={() => deleteTag(t.tag)}
                        />
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages of tags">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>
            <button
              type="button"
              disabled={!value.more}
              onClick={() => setCursors([...cursors, value.tags[value.tags.length - 1]?.tag])}
            >
              Next
            </button>
          </nav>
        </>
      )}
    </main>
  );
}
