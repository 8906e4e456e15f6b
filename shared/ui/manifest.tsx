import { Fragment } from "preact";
import { href } from "./routes.js";
import { platformName } from "./repository.js";
import { call, getJson, isGranted } from "./session.js";
import { ConfirmButton, formatBytes, formatTime, Loading, Problem, registryHost, Section, useLoad } from "./widgets.js";

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  config?: {
    Entrypoint?: string[];
    Cmd?: string[];
    Env?: string[];
    Labels?: Record<string, string>;
    WorkingDir?: string;
    User?: string;
  };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.artifact.manifest.v1+json",
].join(", ");

const IMAGE_CONFIGS = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);

/** One manifest: an image's layers and configuration, an index's platforms, and its referrers. */
export function ManifestPage({ name, reference }: { name: string; reference: string }) {
  const pull = `repository:${name}:pull`;
  const { value, error, loading } = useLoad(async () => {
    const response = await call(`/v2/${name}/manifests/${encodeURIComponent(reference)}`, {
      scope: pull,
      headers: { Accept: ACCEPT },
    });
    const digest = response.headers.get("docker-content-digest") ?? reference;
    const manifest = (await response.json()) as Manifest;
    // (with blob redirects on, the CSP keeps the page from following them to storage: no config then)
    const config =
      manifest.config && IMAGE_CONFIGS.has(manifest.config.mediaType)
        ? await getJson<ImageConfig>(`/v2/${name}/blobs/${manifest.config.digest}`, pull).catch(() => undefined)
        : undefined;
    const referrers = await getJson<{ manifests?: Descriptor[] }>(`/v2/${name}/referrers/${digest}`, pull);
    const mayDelete = await isGranted(`repository:${name}:delete`);
    return { digest, manifest, config, referrers: referrers.manifests ?? [], mayDelete };
  }, [name, reference]);

  return (
    <main>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href({ page: "repositories" })}>Repositories</a> /{" "}
        <a href={href({ page: "repository", name })}>{name}</a> / <span>{reference}</span>
      </nav>
      <h1>
        {name}
        {reference.includes(":") ? "@" : ":"}
        {reference}
      </h1>
      <Problem message={error} />
      <Loading when={loading} />
      {value && <ManifestView name={name} {...value} />}
    </main>
  );
}

function ManifestView(props: {
  name: string;
  digest: string;
  manifest: Manifest;
  config: ImageConfig | undefined;
  referrers: Descriptor[];
  mayDelete: boolean;
}) {
  const { name, digest, manifest, config, referrers } = props;
  return (
    <>
      <dl class="facts">
        <dt>Digest</dt>
        <dd class="mono">{digest}</dd>
        <dt>Media type</dt>
        <dd>{manifest.mediaType ?? "–"}</dd>
        {manifest.artifactType && (
          <>
            <dt>Artifact type</dt>
            <dd>{manifest.artifactType}</dd>
          </>
        )}
        {manifest.subject && (
          <>
            <dt>Subject</dt>
            <dd>
              <a class="mono" href={href({ page: "manifest", name, reference: manifest.subject.digest })}>
                {manifest.subject.digest}
              </a>
            </dd>
          </>
        )}
      </dl>
      <p>
        <code>docker pull {`${registryHost}/${name}@${digest}`}</code>
      </p>
      {props.mayDelete && (
        <ConfirmButton
          label="Delete manifest"
          question="Delete this manifest and every tag pointing at it?"
          onConfirm={async () => {
            await call(`/v2/${name}/manifests/${digest}`, { method: "DELETE", scope: `repository:${name}:delete` });
            location.hash = href({ page: "repository", name });
          }}
        />
      )}
      {manifest.layers && <Layers layers={manifest.layers} />}
      {manifest.manifests && (
        <Section title="Platforms">
          <ul>
            {manifest.manifests.map((m) => (
              <li key={m.digest}>
                <a href={href({ page: "manifest", name, reference: m.digest })}>
                  {m.platform ? platformName(m.platform) : (m.artifactType ?? m.mediaType)}
                </a>{" "}
                <span class="muted">{formatBytes(m.size)}</span>
              </li>
            ))}
          </ul>
        </Section>
      )}
      {config && <Config config={config} />}
      {manifest.annotations && <KeyValues title="Annotations" values={manifest.annotations} />}
      <Referrers name={name} referrers={referrers} />
    </>
  );
}

/** Layer sizes as bars relative to the largest: where an image's weight is shows at a glance. */
function Layers({ layers }: { layers: Descriptor[] }) {
  const largest = Math.max(1, ...layers.map((l) => l.size));
  const total = layers.reduce((sum, l) => sum + l.size, 0);
  return (
    <Section title={`Layers (${layers.length}, ${formatBytes(total)})`}>
      <ol class="layers">
        {layers.map((layer) => (
          <li key={layer.digest}>
            <span class="mono">{layer.digest.slice(0, 19)}…</span>
            <span class="bar" role="img" aria-label={`${formatBytes(layer.size)} of ${formatBytes(total)}`}>
              <span style={{ width: `${Math.max(1, (100 * layer.size) / largest)}%` }} />
            </span>
            <span class="size">{formatBytes(layer.size)}</span>
          </li>
        ))}
      </ol>
    </Section>
  );
}

function Config({ config }: { config: ImageConfig }) {
  const c = config.config ?? {};
  return (
    <Section title="Image configuration">
      <dl class="facts">
        <dt>Created</dt>
        <dd>{formatTime(config.created)}</dd>
        <dt>Platform</dt>
        <dd>{platformName(config)}</dd>
        <dt>Entrypoint</dt>
        <dd class="mono">{c.Entrypoint ? JSON.stringify(c.Entrypoint) : "–"}</dd>
        <dt>Cmd</dt>
        <dd class="mono">{c.Cmd ? JSON.stringify(c.Cmd) : "–"}</dd>
        {c.WorkingDir && (
          <>
            <dt>Working directory</dt>
            <dd class="mono">{c.WorkingDir}</dd>
          </>
        )}
      </dl>
      {c.Env && c.Env.length > 0 && (
        <>
          <h3>Environment</h3>
          <ul class="mono">
            {c.Env.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </>
      )}
      {c.Labels && <KeyValues title="Labels" values={c.Labels} />}
      {config.history && config.history.length > 0 && (
        <>
          <h3>History</h3>
          <ol class="history">
            {config.history.map((h, i) => (
              <li key={i}>
                <span class="muted">{formatTime(h.created)}</span> <code>{h.created_by ?? h.comment ?? ""}</code>
              </li>
            ))}
          </ol>
        </>
      )}
    </Section>
  );
}

function KeyValues({ title, values }: { title: string; values: Record<string, string> }) {
  return (
    <>
      <h3>{title}</h3>
      <dl class="facts">
        {Object.entries(values).map(([key, value]) => (
          <Fragment key={key}>
            <dt class="mono">{key}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
      </dl>
    </>
  );
}

/** Signatures, SBOMs and attestations pointing at this manifest, grouped by artifact type. */
function Referrers({ name, referrers }: { name: string; referrers: Descriptor[] }) {
  const groups = new Map<string, Descriptor[]>();
  for (const r of referrers) {
    const type = r.artifactType ?? r.mediaType;
    groups.set(type, [...(groups.get(type) ?? []), r]);
  }
  return (
    <Section title={`Referrers (${referrers.length})`}>
      {referrers.length === 0 && <p class="muted">Nothing refers to this manifest.</p>}
      {[...groups].map(([type, items]) => (
        <div key={type}>
          <h3>{type}</h3>
          <ul>
            {items.map((r) => (
              <li key={r.digest}>
                <a class="mono" href={href({ page: "manifest", name, reference: r.digest })}>
                  {r.digest}
                </a>{" "}
                <span class="muted">{formatBytes(r.size)}</span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </Section>
  );
}
