import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Admin } from "./admin.js";
import { ManifestPage } from "./manifest.js";
import { Repositories } from "./repositories.js";
import { Repository } from "./repository.js";
import { href, parseRoute, type Route } from "./routes.js";
import { currentUser, isGranted, onSessionChange, signOut } from "./session.js";
import { SignIn } from "./sign-in.js";
import "./style.css";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

function App() {
  const [user, setUser] = useState(currentUser());
  const [admin, setAdmin] = useState(false);
  const route = useRoute();
  useEffect(() => onSessionChange(() => setUser(currentUser())), []);
  useEffect(() => {
    setAdmin(false);
    // the admin pages exist for those granted registry:admin (whoever may do everything)
    if (user) isGranted("registry:admin:*").then(setAdmin);
  }, [user]);

  if (!user) return <SignIn />;
  return (
    <>
      <header>
        <a href={href({ page: "repositories" })} class="brand">
          Stowage
        </a>
        <nav aria-label="Main">
          <a href={href({ page: "repositories" })}>Repositories</a>
          {admin && <a href={href({ page: "admin" })}>Administration</a>}
        </nav>
        <span class="user">
          {user}{" "}
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <Page route={route} admin={admin} />
    </>
  );
}

function Page({ route, admin }: { route: Route; admin: boolean }) {
  switch (route.page) {
    case "repositories":
      return <Repositories />;
    case "repository":
      return <Repository key={route.name} name={route.name} />;
    case "manifest":
      return <ManifestPage key={`${route.name}@${route.reference}`} name={route.name} reference={route.reference} />;
    case "admin":
      return admin ? (
        <Admin />
      ) : (
        <main>
          <h1>Administration</h1>
          <p>Only administrators see this page.</p>
        </main>
      );
  }
}

render(<App />, document.getElementById("app") as HTMLElement);
