import { ADMIN_RULES } from "./permissions.js";
import { formatScope } from "./scopes.js";
import { NameTakenError, type IdentityAdmin } from "./identity-admin.js";
import { generateSecret } from "./passwords.js";
import type { BootstrapMarker } from "../storage/ports/identity-storage.js";
import type { SecretStore } from "../storage/ports/secret-store.js";

export const ADMIN = "admin";

export type BootstrapResult =
  | { created: false }
  /** `generatedPassword` is set when nobody chose one: show it once, it is also in the secret store. */
  | { created: true; generatedPassword: string | undefined };

/**
 * A deployment's first start: on identity storage that has never held anything, create
 * `admin` with every right. Its password comes from STOWAGE_ADMIN_PASSWORD, else from the
 * `<prefix>-admin-password` secret (an operator may put it in Key Vault beforehand), else it
 * is generated and stored as that secret. This happens once, ever: a marker records it, so
 * removing `admin` (or every user) later never brings it back with its old password.
 */
export async function bootstrapAdmin(
  admin: IdentityAdmin,
  marker: BootstrapMarker,
  secrets: SecretStore,
  options: { password: string | undefined; secretName: string },
): Promise<BootstrapResult> {
  if (await marker.isSet()) return { created: false };
  if (await admin.hasIdentities()) {
    // storage from before the marker existed: it has been bootstrapped (or set up by hand)
    await marker.set();
    return { created: false };
  }
  const result = await createAdmin(admin, secrets, options);
  await marker.set();
  return result;
}

async function createAdmin(
  admin: IdentityAdmin,
  secrets: SecretStore,
  options: { password: string | undefined; secretName: string },
): Promise<BootstrapResult> {
  const stored = options.password ?? (await secrets.latest(options.secretName));
  const password = stored ?? generateSecret(18);
  try {
    await admin.addUser({ name: ADMIN, access: ADMIN_RULES.map(formatScope) }, password);
  } catch (error) {
    // another instance bootstrapped at the same moment: theirs stands
    if (error instanceof NameTakenError) return { created: false };
    throw error;
  }
  if (stored !== undefined) return { created: true, generatedPassword: undefined };
  await secrets.add(options.secretName, password);
  return { created: true, generatedPassword: password };
}

/**
 * The start-up message about the bootstrap. The generated password is included only where a
 * person reads the console once (`npm start`); elsewhere (Functions logs are kept) it names
 * the secret that holds it.
 */
export function bootstrapMessage(result: BootstrapResult, where: string, showPassword: boolean): string | undefined {
  if (!result.created) return undefined;
  if (result.generatedPassword === undefined) return `created user "${ADMIN}" with the configured password`;
  const stored = `stored as secret in ${where}`;
  return showPassword
    ? `created user "${ADMIN}" with a generated password, shown this once (also ${stored}): ${result.generatedPassword}`
    : `created user "${ADMIN}" with a generated password, ${stored}`;
}
