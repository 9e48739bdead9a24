// The JSON API, with the key from sessionStorage (gone when the tab closes).

const KEY_STORAGE = "maestro.apiKey";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

export const getKey = () => sessionStorage.getItem(KEY_STORAGE) || "";
export const setKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
export const clearKey = () => sessionStorage.removeItem(KEY_STORAGE);

/**
 * The parsed JSON answer of `path`; an ApiError for a network failure or an error
 * status (unless listed in `allow`), carrying the API's {code, message, field}.
 */
export async function api(path, { method = "GET", body, allow = [] } = {}) {
  const headers = { Accept: "application/json" };
  if (!path.startsWith("/health")) {
    const key = getKey();
    if (!key) throw new ApiError(0, "no_key", "enter an API key above to load this panel");
    headers.Authorization = "Bearer " + key;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", "cannot reach the API (" + err.message + ")");
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok && !allow.includes(response.status)) {
    const e = data && data.error;
    throw new ApiError(response.status, e ? e.code : "http_error",
      e ? e.message : "HTTP " + response.status, e ? e.field : null);
  }
  return data;
}

/** One line for a panel: "401 unauthorized: a valid API key is required". */
export function describe(err) {
  if (!(err instanceof ApiError)) return "unexpected error: " + err.message;
  return err.status ? `${err.status} ${err.code}: ${err.message}` : err.message;
}
