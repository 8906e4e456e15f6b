/** Login names: what Docker and Table keys both accept (no `/`, at most 64 characters). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function isLoginName(name: string): boolean {
  return NAME.test(name);
}
