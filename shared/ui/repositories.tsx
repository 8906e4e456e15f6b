import { useState } from "preact/hooks";
import { href } from "./routes.js";
import { getJson } from "./session.js";
import { formatBytes, formatTime, Loading, Problem, useLoad } from "./widgets.js";

interface RepositorySummary {
  name: string;
  tags: number;
  complete: boolean;
  lastPushAt?: string;
  blobBytes: number;
}

const PAGE = 25;

/** The repositories the user may pull, a page at a time, filtered by name prefix. */
export function Repositories() {
  const [prefix, setPrefix] = useState("");
  // cursors of the pages before this one, for Previous
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const last = cursors[cursors.length - 1];
  const { value, error, loading } = useLoad(() => {
    const query = new URLSearchParams({ n: String(PAGE), prefix });
    if (last) query.set("last", last);
    return getJson<{ repositories: RepositorySummary[]; next?: string }>(`/api/v1/repositories?${query}`);
  }, [prefix, last]);

  return (
    <main>
      <h1>Repositories</h1>
      <form
        class="filter"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          const value = new FormData(event.currentTarget as HTMLFormElement).get("prefix");
          setPrefix(String(value ?? "").trim());
          setCursors([undefined]);
        }}
      >
        <label for="prefix">Name starts with</label>
        <input id="prefix" name="prefix" defaultValue={prefix} placeholder="team/" />
        <button type="submit">Filter</button>
      </form>
      <Problem message={error} />
      <Loading when={loading} />
      {value && (
        <>
          {value.repositories.length === 0 && <p>No repositories to show.</p>}
          <table class="listing">
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col">Tags</th>
                <th scope="col">Last push</th>
                <th scope="col">Size</th>
              </tr>
            </thead>
            <tbody>
              {value.repositories.map((r) => (
                <tr key={r.name}>
                  <td data-label="Repository">
                    <a href={href({ page: "repository", name: r.name })}>{r.name}</a>
                  </td>
                  <td data-label="Tags">
                    {r.tags}
                    {r.complete ? "" : "+"}
                  </td>
                  <td data-label="Last push">{formatTime(r.lastPushAt)}</td>
                  <td data-label="Size">
                    {formatBytes(r.blobBytes)}
                    {r.complete ? "" : "+"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages of repositories">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>
            <button type="button" disabled={!value.next} onClick={() => setCursors([...cursors, value.next])}>
              Next
            </button>
          </nav>
        </>
      )}
    </main>
  );
}
