/** Why a caller could not be identified (the HTTP layer answers 401 with a challenge). */
export type AuthenticationFailure = "authentication_required" | "invalid_credentials" | "invalid_refresh_token";

export class AuthenticationError extends Error {
  constructor(
    readonly reason: AuthenticationFailure,
    message: string,
  ) {
    super(message);
    this.name = "AuthenticationError";
  }
}
