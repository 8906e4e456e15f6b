import { useState } from "preact/hooks";
import { deploymentYaml, exampleImage, isPullOnly, kubectlCommand } from "./pull-secret.js";
import { call, getJson, sendJson } from "./session.js";
import { ConfirmButton, CopyField, formatTime, Loading, Problem, registryHost, Section, useLoad } from "./widgets.js";

const ADMIN = "registry:admin:*";

interface IdentityRow {
  name: string;
  kind: "user" | "token";
  access: string[];
  createdAt: string;
  expiresAt?: string;
}

interface WebhookView {
  subscriptions: {
    name: string;
    url: string;
    actions: string[];
    repositories: string[];
    format: string;
    origin: string;
  }[];
  deadLetters: {
    id: string;
    subscription: string;
    failedAt: string;
    lastOutcome: string;
    attempts: number;
    event: { action?: string };
  }[];
}

/** Users, access tokens and webhooks: what the CLI manages, for administrators. */
export function Admin() {
  const identities = useLoad(
    () => getJson<{ users: IdentityRow[]; tokens: IdentityRow[] }>("/api/v1/admin/identities", ADMIN),
    [],
  );
  return (
    <main>
      <h1>Administration</h1>
      <Problem message={identities.error} />
      <Loading when={identities.loading} />
      {identities.value && (
        <>
          <Identities title="Users" rows={identities.value.users} onChange={identities.reload} />
          <NewUser onCreated={identities.reload} />
          <Identities title="Access tokens" rows={identities.value.tokens} onChange={identities.reload} />
          <NewToken onCreated={identities.reload} />
        </>
      )}
      <Webhooks />
      <StorageLifecyclePanel />
    </main>
  );
}

/**
 * The place for storage usage and the last clean-up report (repository lifecycle, issue 12):
 * that feature adds its `/api/v1/...` routes and fills this panel in.
 */
function StorageLifecyclePanel() {
  return null;
}

function Identities({ title, rows, onChange }: { title: string; rows: IdentityRow[]; onChange: () => void }) {
  return (
    <Section title={title}>
      <table class="listing">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Rules</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <td data-label="Name">{row.name}</td>
              <td data-label="Rules" class="mono">
                {row.access.join(" ") || "–"}
              </td>
              <td data-label="Created">{formatTime(row.createdAt)}</td>
              <td data-label="Expires">{formatTime(row.expiresAt)}</td>
              <td data-label="Actions">
                <ConfirmButton
                  label={`Remove ${row.name}`}
                  question={`Remove ${row.kind} ${row.name}? Its sign-ins stop working.`}
                  onConfirm={async () => {
                    await call(`/api/v1/admin/${row.kind}s/${encodeURIComponent(row.name)}`, {
                      method: "DELETE",
                      scope: ADMIN,
                    });
                    onChange();
                  }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function rulesOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((r) => r.trim())
    .filter(Boolean);
}

function NewUser({ onCreated }: { onCreated: () => void }) {
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<{ name: string; password?: string }>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    setError(undefined);
    try {
      const password = String(form.get("password") ?? "");
      const result = await sendJson<{ name: string; password?: string }>(
        "/api/v1/admin/users",
        "POST",
        {
          name: String(form.get("name")),
          access: rulesOf(String(form.get("rules") ?? "")),
          admin: form.get("admin") === "on",
          ...(password ? { password } : {}),
        },
        ADMIN,
      );
      setCreated(result);
      formElement.reset();
      onCreated();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form class="create" onSubmit={submit} aria-labelledby="new-user">
      <h3 id="new-user">New user</h3>
      <label for="user-name">Name</label>
      <input id="user-name" name="name" required />
      <label for="user-rules">Rules (one per line: team/*:pull,push or catalog)</label>
      <textarea id="user-rules" name="rules" rows={2} />
      <label for="user-password">Password (empty: generate one)</label>
      <input id="user-password" name="password" type="password" autoComplete="new-password" />
      <label class="check">
        <input type="checkbox" name="admin" /> Administrator (every right)
      </label>
      <button type="submit">Create user</button>
      <Problem message={error} />
      {created?.password && (
        <CopyField label={`Generated password of ${created.name} (shown once)`} value={created.password} />
      )}
    </form>
  );
}

function NewToken({ onCreated }: { onCreated: () => void }) {
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<{ name: string; secret: string; rules: string[] }>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    setError(undefined);
    const rules = rulesOf(String(form.get("rules") ?? ""));
    const days = Number(form.get("days"));
    try {
      const result = await sendJson<{ name: string; secret: string }>(
        "/api/v1/admin/tokens",
        "POST",
        { name: String(form.get("name")), access: rules, ...(days > 0 ? { expiresInDays: days } : {}) },
        ADMIN,
      );
      setCreated({ ...result, rules });
      formElement.reset();
      onCreated();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const secretFor = created && {
    host: registryHost,
    username: created.name,
    secret: created.secret,
    image: exampleImage(registryHost, created.rules),
  };
  return (
    <form class="create" onSubmit={submit} aria-labelledby="new-token">
      <h3 id="new-token">New access token</h3>
      <label for="token-name">Name</label>
      <input id="token-name" name="name" required placeholder="k8s-nodes" />
      <label for="token-rules">Rules (one per line, e.g. team/*:pull)</label>
      <textarea id="token-rules" name="rules" rows={2} required />
      <label for="token-days">Expires after (days; empty: never)</label>
      <input id="token-days" name="days" type="number" min={1} max={3650} defaultValue="90" />
      <button type="submit">Create token</button>
      <Problem message={error} />
      {created && secretFor && (
        <div class="secret" aria-live="polite">
          <CopyField label={`Secret of ${created.name} (shown once)`} value={created.secret} />
          {isPullOnly(created.rules) && (
            <>
              <CopyField label="kubectl command" value={kubectlCommand(secretFor)} />
              <CopyField label="Deployment using it" value={deploymentYaml(secretFor)} multiline />
            </>
          )}
        </div>
      )}
    </form>
  );
}

function Webhooks() {
  const { value, error, loading, reload } = useLoad(() => getJson<WebhookView>("/api/v1/admin/webhooks", ADMIN), []);
  const [replayError, setReplayError] = useState<string>();
  return (
    <Section title="Webhooks">
      <Problem message={error ?? replayError} />
      <Loading when={loading} />
      {value && (
        <>
          {value.subscriptions.length === 0 && <p class="muted">No subscriptions.</p>}
          <ul>
            {value.subscriptions.map((s) => (
              <li key={s.name}>
                <strong>{s.name}</strong> → <span class="mono">{s.url}</span>{" "}
                <span class="muted">
                  {s.format}; {s.actions.join(",") || "all actions"}; {s.repositories.join(",") || "all repositories"} (
                  {s.origin})
                </span>
              </li>
            ))}
          </ul>
          <h3>Dead letters ({value.deadLetters.length})</h3>
          <ul>
            {value.deadLetters.map((letter) => (
              <li key={letter.id}>
                <span class="mono">{letter.id}</span> {letter.subscription} {letter.event.action ?? ""}{" "}
                <span class="muted">
                  {formatTime(letter.failedAt)}, {letter.attempts} attempts, {letter.lastOutcome}
                </span>{" "}
                <button
                  type="button"
                  onClick={async () => {
                    setReplayError(undefined);
                    try {
                      await call(`/api/v1/admin/webhooks/dead-letters/${encodeURIComponent(letter.id)}/replay`, {
                        method: "POST",
                        scope: ADMIN,
                      });
                      reload();
                    } catch (e) {
                      setReplayError((e as Error).message);
                    }
                  }}
                >
                  Replay
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}
