import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function shortDigest(digest: string): string {
  return digest.replace(/^(sha\d+:)([0-9a-f]{12})[0-9a-f]*$/, "$1$2…");
}

/** The registry's host as clients name it in image references. */
export const registryHost = location.host;

/** Runs a load whenever its keys change; the result, its error, and whether it is loading. */
export function useLoad<T>(load: () => Promise<T>, keys: unknown[]) {
  const [state, setState] = useState<{ value?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (value) => live && setState({ value, loading: false }),
      (error: Error) => live && setState({ error: error.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...keys, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

export function Problem({ message }: { message: string | undefined }) {
  return message ? (
    <p class="problem" role="alert">
      {message}
    </p>
  ) : null;
}

export function Loading({ when }: { when: boolean }) {
  return when ? (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

/** A read-only command with a Copy button (the clipboard API, or selecting the text for Ctrl-C). */
export function CopyField({ label, value, multiline }: { label: string; value: string; multiline?: boolean }) {
  const [copied, setCopied] = useState(false);
  const id = `copy-${label.replace(/\W+/g, "-").toLowerCase()}`;
  const copy = async (event: Event) => {
    const field = (event.currentTarget as HTMLElement).parentElement?.querySelector("input, textarea") as
      HTMLInputElement | HTMLTextAreaElement | null;
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      field?.select();
    }
  };
  return (
    <div class="copy">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea id={id} readOnly rows={Math.min(value.split("\n").length, 30)} value={value} />
      ) : (
        <input id={id} readOnly value={value} />
      )}
      <button type="button" onClick={copy} aria-label={`Copy ${label}`}>
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

/** A destructive action behind a confirmation dialog. */
export function ConfirmButton(props: { label: string; question: string; onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string>();
  const yes = useRef<HTMLButtonElement>(null);
  // keyboard users land on the question's answer (autofocus only works once per page)
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  const confirm = async () => {
    try {
      await props.onConfirm();
      setAsking(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <span role="alertdialog" aria-label={props.question} class="confirm">
      <span>{props.question}</span>
      <button type="button" class="danger" onClick={confirm} ref={yes}>
        Yes, delete
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
      <Problem message={error} />
    </span>
  );
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
