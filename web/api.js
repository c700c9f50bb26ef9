// The store's API: picks the URL of the chosen version (v1 or v2), adds the access token where it
// is needed, and turns every error answer into an ApiError carrying the body's `message` and the
// fields its `errors` name.

const VENDOR = "petstore";

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    /** [{field, problem}] of a validation error ("body.priceCents", "query.limit"...) */
    this.fields = Array.isArray(body?.errors) ? body.errors : [];
  }
}

/** Where a version is served: the edge URL with an Accept header, else that stage's own URL. */
export function versionTarget(config, version) {
  if (config.edgeUrl) {
    return { baseUrl: config.edgeUrl, accept: `application/vnd.${VENDOR}.${version}+json` };
  }
  if (version === "v1") {
    const entry = Object.entries(config.apis ?? {}).find(([name]) => name.endsWith("/v1"));
    return { baseUrl: entry?.[1] ?? null, accept: "application/json" };
  }
  return { baseUrl: config.apiUrl, accept: "application/json" };
}

/** Text for people: what went wrong and what to do, with the API's own message. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return error?.message ?? String(error);
  const detail = error.message;
  switch (error.status) {
    case 0:
      return detail;
    case 401:
      return "You are not signed in, or your session has expired: sign in and try again.";
    case 403:
      return `You may not do this (${detail}).`;
    case 404:
      return `It is not there any more (${detail}).`;
    case 413:
      return "That is too large to send.";
    default:
      return error.status >= 500 ? `The store could not do this just now; try again (${error.status}).` : detail;
  }
}

/** Lists come as {items, nextToken} (v2) or a bare array (v1). */
export function pageOf(body) {
  if (Array.isArray(body)) return { items: body, nextToken: null, shape: "array" };
  return { items: body?.items ?? [], nextToken: body?.nextToken ?? null, shape: "page" };
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class StoreApi {
  constructor(config, auth) {
    this.config = config;
    this.auth = auth;
    this.version = "v2";
  }

  get target() {
    return versionTarget(this.config, this.version);
  }

  hasVersion(version) {
    return Boolean(versionTarget(this.config, version).baseUrl);
  }

  /**
   * One call; resolves to {status, body, etag} for 2xx, rejects with ApiError otherwise.
   * `ifMatch` (a version) replaces or deletes only that version; `ifNoneMatch: "*"` only creates.
   */
  async request(method, path, { body, query, ifMatch, ifNoneMatch, idempotencyKey, signed = method !== "GET" } = {}) {
    const { baseUrl, accept } = this.target;
    const url = new URL(baseUrl.replace(/\/$/, "") + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    const headers = { accept };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (ifMatch !== undefined && ifMatch !== null) headers["if-match"] = `"${ifMatch}"`;
    if (ifNoneMatch) headers["if-none-match"] = ifNoneMatch;
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    const token = signed ? await this.auth.accessToken() : null;
    if (token) headers.authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, `Cannot reach the store's API at ${baseUrl}: check your connection and try again.`);
    }
    const data = await readBody(response);
    if (!response.ok) {
      const message = typeof data?.message === "string" ? data.message : response.statusText || "Request failed";
      throw new ApiError(response.status, message, data);
    }
    return { status: response.status, body: data, etag: response.headers.get("etag") };
  }

  /** A page of a list; v1 has no pages, so it asks for the most it may return at once. */
  async list(path, { limit, nextToken } = {}) {
    const query = this.version === "v1" ? { limit: 100 } : { limit, nextToken };
    const { body } = await this.request("GET", path, { query });
    return pageOf(body);
  }

  /** One item (a pet, a food), or null when there is none. */
  async item(path) {
    try {
      return (await this.request("GET", path)).body;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }
}
