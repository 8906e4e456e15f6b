import { useState } from "preact/hooks";
import { signIn } from "./session.js";
import { Problem } from "./widgets.js";

/** User name and password, or an access token's name and secret: both go to the token endpoint. */
export function SignIn() {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      await signIn(String(form.get("username")), String(form.get("password")));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Sign in to Stowage</h1>
      <form onSubmit={submit}>
        <label for="username">User or access token name</label>
        <input id="username" name="username" autoComplete="username" required autoFocus />
        <label for="password">Password or token secret</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <Problem message={error} />
      </form>
    </main>
  );
}
