// The public API, as the portal calls it: JSON in and out, the signed-in admin's token on
// every request (kept in this module only: never in storage, gone with the page).

let token = null;

export function setToken(value) {
  token = value;
}

export function hasToken() {
  return token !== null;
}

// A refusal of the API in the shape its errors have: DRF field errors
// ({"field": ["message"]}, "non_field_errors"), or {"detail": "..."}.
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(describe(status, body));
    this.status = status;
    this.body = body && typeof body === "object" ? body : {};
    this.retryAfter = retryAfter;
  }

  // The messages of each field; those of no field (detail) under non_field_errors.
  get fields() {
    const fields = {};
    for (const [name, messages] of Object.entries(this.body)) {
      const list = Array.isArray(messages) ? messages.map(String) : [String(messages)];
      const key = name === "detail" || name === "message" ? "non_field_errors" : name;
      fields[key] = [...(fields[key] || []), ...list];
    }
    if (Object.keys(fields).length === 0) {
      fields.non_field_errors = [this.message];
    }
    return fields;
  }
}

function describe(status, body) {
  if (body && typeof body === "object") {
    const messages = Object.values(body).flat().map(String);
    if (messages.length) return messages.join(" ");
  }
  if (status === 0) return "The server cannot be reached. Check the connection and try again.";
  if (status >= 500) return "The server could not do this right now. Try again shortly.";
  return `The request was refused (HTTP ${status}).`;
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Token ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, null, null);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      data = null;
    }
  }
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    throw new ApiError(response.status, data, Number.isFinite(retry) ? retry : null);
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const del = (path) => request("DELETE", path);

// A list's query string: the given parameters that have a value.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// "Try again in 12 minutes (at 14:05)." from a Retry-After in seconds.
export function retryWords(seconds) {
  if (!seconds) return "Try again later.";
  const at = new Date(Date.now() + seconds * 1000);
  const clock = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (seconds < 90) return `Try again in ${seconds} seconds (at ${clock}).`;
  const minutes = Math.ceil(seconds / 60);
  return `Try again in ${minutes} minutes (at ${clock}).`;
}
