import { ADMIN_RULES } from "./permissions.js";
import { formatScope } from "./scopes.js";
import { NameTakenError, type IdentityAdmin } from "./identity-admin.js";
import { generateSecret } from "./passwords.js";
import type { SecretStore } from "../storage/ports/secret-store.js";

export const ADMIN = "admin";

export type BootstrapResult =
  | { created: false }
  /** `generatedPassword` is set when nobody chose one: show it once, it is also in the secret store. */
  | { created: true; generatedPassword: string | undefined };

/**
 * First start: while no user exists, create `admin` with every right. Its password comes from
 * STOWAGE_ADMIN_PASSWORD, else from the `<prefix>-admin-password` secret (an operator may put
 * it in Key Vault beforehand), else it is generated and stored as that secret. Once any user
 * exists nothing happens, so removing `admin` later does not bring it back.
 */
export async function bootstrapAdmin(
  admin: IdentityAdmin,
  secrets: SecretStore,
  options: { password: string | undefined; secretName: string },
): Promise<BootstrapResult> {
  if (await admin.hasUsers()) return { created: false };
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
