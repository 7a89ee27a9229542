// Gatehouse account page: the session (SPEC.md §3.9). Loaded before account.js.
//
// Tokens: the access token lives in the `accessToken` variable below and nowhere else
// (never localStorage, sessionStorage or a cookie any script can read); nothing outside
// this closure can get it, only make calls with it. The refresh token is the server's
// HttpOnly cookie, sent by the browser to /api/v1/auth/refresh only. Refreshing through
// that cookie restores the session on load; it is refreshed again shortly before the
// access token expires; a 401 that a refresh can cure gets one refresh and one retry.
'use strict';

const GatehouseSession = (() => {
  const API = '/api/v1';
  let accessToken = null;
  let refreshTimer = null;
  let refreshing = null;
  let cookieQueue = Promise.resolve();
  // What the page does when the session ends or a renewal fails (set by account.js).
  const hooks = { signedOut: () => {}, notice: () => {} };

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.message) || `Request failed (${status})`);
      this.status = status;
      this.body = body;
      this.retryAfter = retryAfter;
    }
  }

  // One request to the API, with the access token when asked for.
  async function request(path, { method = 'GET', body, auth = true } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, { message: 'The server could not be reached. Check your connection and try again.' }, null);
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (error) { data = null; }
    }
    if (!response.ok) throw new ApiError(response.status, data, response.headers.get('Retry-After'));
    // A proxy or a captive portal can answer 200 with a page of its own.
    if (response.status !== 204 && (data === null || typeof data !== 'object')) {
      throw new ApiError(response.status, { message: 'The server gave an unexpected answer. Please try again.' }, null);
    }
    return data;
  }

  // Requests that change the refresh cookie (refresh, password change, logout) run one
  // after another: a refresh sent with the old cookie while a password change rotates it
  // would be refused, and its 401 would clear the new cookie.
  function serially(work) {
    const run = cookieQueue.then(work, work);
    cookieQueue = run.then(() => {}, () => {});
    return run;
  }

  // The refresh cookie buys a new access token; one refresh at a time in this tab.
  // Resolves true when signed in, false when the cookie no longer signs anyone in.
  function refresh() {
    if (!refreshing) {
      refreshing = serially(async () => {
        try {
          const data = await request('/auth/refresh', { method: 'POST', auth: false });
          setToken(data.accessToken);
          return true;
        } catch (error) {
          if (error.status === 401) {
            setToken(null);
            return false;
          }
          throw error;
        } finally {
          refreshing = null;
        }
      });
    }
    return refreshing;
  }

  // 401s a refresh can cure: the token ran out, was revoked (a role change, say), or was
  // signed with a key the server has since rotated away.
  const retryable = (error) => error instanceof ApiError && error.status === 401 && error.body
    && ['Access token expired', 'Access token revoked', 'Invalid access token'].includes(error.body.message);

  // An authenticated call: on an expired, revoked or unreadable token, one refresh and
  // one retry; if the cookie no longer signs anyone in, the sign-in form. A refresh that
  // fails for another reason (429, 503, no network) keeps the page as it is and reports.
  async function call(path, options = {}) {
    const attempt = () => (options.serial ? serially(() => request(path, options)) : request(path, options));
    try {
      return await attempt();
    } catch (error) {
      if (!retryable(error)) {
        if (error.status === 401) hooks.signedOut('Your session has ended. Please sign in again.');
        throw error;
      }
    }
    if (!(await refresh())) {
      hooks.signedOut('Your session has ended. Please sign in again.');
      throw new ApiError(401, { message: 'Signed out' }, null);
    }
    try {
      return await attempt();
    } catch (error) {
      if (error.status === 401) hooks.signedOut('Your session has ended. Please sign in again.');
      throw error;
    }
  }

  // Claims of a JWT, for its lifetime only (the server verifies; the page never trusts them).
  function claims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch (error) {
      return null;
    }
  }

  // Keeps the token and schedules the next refresh: a minute before expiry (or at 80 % of
  // a short lifetime), measured from now with the token's own lifetime, so that a wrong
  // clock on this computer does not matter.
  function setToken(token) {
    accessToken = token;
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (!token) return;
    const payload = claims(token);
    const lifetime = payload && payload.exp > payload.iat ? (payload.exp - payload.iat) * 1000 : 60_000;
    // Timers hold at most 2^31 - 1 ms (24.8 days); a longer wait would fire at once.
    const delay = Math.min(2_147_483_647, Math.max(1_000, lifetime - Math.min(60_000, lifetime * 0.2)));
    refreshTimer = setTimeout(renew, delay);
  }

  async function renew() {
    try {
      if (!(await refresh())) hooks.signedOut('Your session has ended. Please sign in again.');
    } catch (error) {
      // Not refused, just not now (no network, 429, 503): keep the token and try again.
      hooks.notice(`Could not renew your sign-in (${error.message}); trying again shortly.`);
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(renew, 30_000);
    }
  }

  // ----- what the page shows -----

  return Object.freeze({
    ApiError,
    request,
    call,
    refresh,
    setToken,
    hasToken: () => accessToken !== null,
    on: (handlers) => Object.assign(hooks, handlers),
  });
})();
