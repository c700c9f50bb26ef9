// Sign-up and sign-in with the Cognito user pool's JSON API (no SDK): SignUp, ConfirmSignUp,
// InitiateAuth with USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH before the access token expires, and
// RevokeToken on sign-out (the app client has token revocation on). Tokens live in sessionStorage
// (this tab only, gone when it closes) and are never logged. Who is staff is read from the access
// token's `cognito:groups` (to show only the controls a user can use; the API decides for itself).

/** template.yaml's StaffGroup */
export const STAFF_GROUP = "staff";

const STORAGE_KEY = "petstore.session";
const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

export class AuthError extends Error {
  constructor(message, code = "") {
    super(message);
    this.name = "AuthError";
    this.code = code;
  }
}

/** Cognito's endpoint: config's endpointUrl locally, the regional service on AWS. */
export function cognitoEndpoint(cognito) {
  return cognito.endpointUrl || `https://cognito-idp.${cognito.region}.amazonaws.com/`;
}

async function callCognito(cognito, operation, body) {
  const endpoint = cognitoEndpoint(cognito);
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": TARGET_PREFIX + operation,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new AuthError(`Cannot reach Cognito at ${endpoint}.`, "NetworkError");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(data.__type ?? "").split("#").pop();
    throw new AuthError(data.message ?? data.Message ?? `${operation} failed (${response.status}).`, code);
  }
  return data;
}

/** The claims of a JWT (read only to show who is signed in; the API verifies signatures). */
export function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "=")), (c) =>
      c.charCodeAt(0),
    );
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function sessionFrom(result, email, previousRefreshToken) {
  return {
    email: claimsOf(result.IdToken).email ?? email,
    accessToken: result.AccessToken,
    idToken: result.IdToken,
    refreshToken: result.RefreshToken ?? previousRefreshToken,
    expiresAt: Date.now() + (result.ExpiresIn ?? 3600) * 1000,
  };
}

function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    return session?.accessToken && session?.refreshToken ? session : null;
  } catch {
    return null;
  }
}

export class Auth {
  /** `onChange(session|null)` runs whenever someone signs in, is refreshed or signs out. */
  constructor(config, onChange = () => {}) {
    this.cognito = config.cognito;
    // served by the web server that served this page: called on the page's own origin (it may be
    // localhost rather than 127.0.0.1), so it stays a same-origin request
    this.localConfirmUrl = config.localConfirmUrl
      ? new URL(new URL(config.localConfirmUrl).pathname, location.href).href
      : null;
    this.onChange = onChange;
    this.session = loadSession();
    this.refreshTimer = null;
    this.refreshing = null;
  }

  get signedIn() {
    return this.session !== null;
  }

  get email() {
    return this.session?.email ?? null;
  }

  /** The access token's claims ({} when signed out). */
  get claims() {
    return this.session ? claimsOf(this.session.accessToken) : {};
  }

  /** The signed-in user's id (the token's `sub`, a comment's `authorId`). */
  get userId() {
    return this.claims.sub ?? null;
  }

  get groups() {
    const groups = this.claims["cognito:groups"];
    return Array.isArray(groups) ? groups : [];
  }

  get isStaff() {
    return this.groups.includes(STAFF_GROUP);
  }

  /** Resumes a session kept in this tab (refreshing it if it has expired meanwhile). */
  async resume() {
    if (!this.session) return;
    if (Date.now() > this.session.expiresAt - REFRESH_MARGIN_MS) await this.refresh();
    else this.scheduleRefresh();
    this.onChange(this.session);
  }

  /** Returns whether Cognito already confirmed the user (a pool could auto-confirm). */
  async signUp(email, password) {
    const data = await callCognito(this.cognito, "SignUp", {
      ClientId: this.cognito.userPoolClientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    });
    return Boolean(data.UserConfirmed);
  }

  /** AWS: the code Cognito emailed. */
  async confirmWithCode(email, code) {
    await callCognito(this.cognito, "ConfirmSignUp", {
      ClientId: this.cognito.userPoolClientId,
      Username: email,
      ConfirmationCode: code,
    });
  }

  /** Local cloud only (no email there): its web server's AdminConfirmSignUp action. */
  async confirmLocally(email) {
    let response;
    try {
      response = await fetch(this.localConfirmUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
    } catch {
      throw new AuthError("Cannot reach the local cloud's web server.", "NetworkError");
    }
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new AuthError(data.message ?? `Confirmation failed (${response.status}).`);
    }
  }

  async signIn(email, password) {
    const data = await callCognito(this.cognito, "InitiateAuth", {
      ClientId: this.cognito.userPoolClientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    if (!data.AuthenticationResult) {
      throw new AuthError(`Cognito asks for ${data.ChallengeName}, which this page does not support.`);
    }
    this.store(sessionFrom(data.AuthenticationResult, email));
  }

  /** REFRESH_TOKEN_AUTH; signs out (and throws) when the refresh token is no longer valid. */
  async refresh() {
    if (!this.session) return;
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }

  async refreshOnce() {
    const { refreshToken, email } = this.session;
    try {
      const data = await callCognito(this.cognito, "InitiateAuth", {
        ClientId: this.cognito.userPoolClientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      });
      this.store(sessionFrom(data.AuthenticationResult, email, refreshToken));
    } catch (error) {
      if (error.code === "NetworkError") throw error;
      this.forget();
      throw new AuthError("Your session has expired: sign in again.", error.code);
    }
  }

  /** The access token for an API call, refreshed first when it is about to expire; null if signed out. */
  async accessToken() {
    if (!this.session) return null;
    if (Date.now() > this.session.expiresAt - REFRESH_MARGIN_MS) await this.refresh();
    return this.session?.accessToken ?? null;
  }

  /**
   * Forgets the tokens of this tab, then revokes the refresh token (RevokeToken: it and the access
   * tokens it issued stop working). Resolves to whether Cognito confirmed the revocation; the tab
   * is signed out either way.
   */
  async signOut() {
    const refreshToken = this.session?.refreshToken;
    this.forget();
    if (!refreshToken) return true;
    try {
      await callCognito(this.cognito, "RevokeToken", { Token: refreshToken, ClientId: this.cognito.userPoolClientId });
      return true;
    } catch {
      return false;
    }
  }

  /** Forgets the tokens without revoking them (they are no longer valid anyway). */
  forget() {
    clearTimeout(this.refreshTimer);
    this.session = null;
    sessionStorage.removeItem(STORAGE_KEY);
    this.onChange(null);
  }

  store(session) {
    this.session = session;
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    this.scheduleRefresh();
    this.onChange(session);
  }

  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    const delay = Math.max(this.session.expiresAt - REFRESH_MARGIN_MS - Date.now(), 0);
    // a failed background refresh signs the user out; the page shows it through onChange
    this.refreshTimer = setTimeout(() => this.refresh().catch(() => {}), delay);
  }
}
