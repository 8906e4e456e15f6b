/**
 * What a Kubernetes operator needs for a pull-only access token: the `kubectl` command that
 * makes the secret, and a Deployment that uses it (`imagePullSecrets` belongs in the pod
 * template's spec, beside `containers`, which is where hand-written YAML often goes wrong).
 */
export interface PullSecretInput {
  host: string;
  username: string;
  secret: string;
  /** An image the token may pull, for the example Deployment. */
  image: string;
  secretName?: string;
}

/** Quotes for a POSIX shell (single quotes; a quote inside becomes '\''). */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

export function kubectlCommand(input: PullSecretInput): string {
  const name = input.secretName ?? "stowage-pull";
  return [
    `kubectl create secret docker-registry ${name}`,
    `--docker-server=${shellQuote(input.host)}`,
    `--docker-username=${shellQuote(input.username)}`,
    `--docker-password=${shellQuote(input.secret)}`,
  ].join(" ");
}

export function deploymentYaml(input: PullSecretInput): string {
  const name = input.secretName ?? "stowage-pull";
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      imagePullSecrets:
        - name: ${name}
      containers:
        - name: app
          image: ${input.image}
`;
}

/** Whether every rule only pulls (`team/*:pull`): such a token is what nodes should get. */
export function isPullOnly(rules: string[]): boolean {
  return rules.length > 0 && rules.every((rule) => /^(repository:)?[^:]+:pull$/.test(rule.trim()));
}

/** An image reference for the example: the first pattern with its wildcard filled in. */
export function exampleImage(host: string, rules: string[]): string {
  const pattern = (rules[0] ?? "app:pull")
    .trim()
    .replace(/^repository:/, "")
    .replace(/:pull$/, "");
  return `${host}/${pattern.replace(/\*/g, "app")}:latest`;
}
