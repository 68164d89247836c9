// The one way the dashboard talks to the server: GET a documented /v1 endpoint, get JSON
// back or an ApiError that says what failed (the problem document's detail when the
// server sent one). URLs are relative, so the dashboard also works under a path prefix.

export class ApiError extends Error {
  constructor(path, status, detail) {
    super(status ? `${path}: ${status} ${detail}` : `${path}: ${detail}`);
    this.path = path;
    this.status = status;
    this.detail = detail;
  }
}

// Drops parameters that are unset, so URLs stay short and cache keys stay stable.
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// path: '/v1/...' (kept as given for messages; fetched relative to the page).
export async function api(path, params = {}, { signal } = {}) {
  const url = `.${path}${query(params)}`;
  let res;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(path, 0, 'the server could not be reached');
  }
  if (!res.ok) {
    let detail = res.statusText || 'request failed';
    try {
      const problem = await res.json();
      detail = problem.detail || problem.title || detail;
    } catch {
      /* not a problem document: keep the status text */
    }
    throw new ApiError(path, res.status, detail);
  }
  return res.json();
}

// The segment of a path parameter (track and artist ids, regions, dates).
export const seg = encodeURIComponent;
