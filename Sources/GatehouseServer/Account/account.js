// Gatehouse account page (SPEC.md §3.9): what the person sees and does. No framework,
// no build step. Every call goes through GatehouseSession (session.js), which alone
// holds the access token.
'use strict';

(() => {
  const { ApiError, request, call, refresh, setToken } = GatehouseSession;
  let user = null;
  let wired = false;

  const $ = (id) => document.getElementById(id);

  // The status line is always in the page (empty, it takes no room), so that screen
  // readers announce each new message.
  function notice(text, warn = false) {
    const element = $('notice');
    element.textContent = text || '';
    element.classList.toggle('warn', warn);
  }

  function show(view) {
    for (const id of ['loading', 'signed-out', 'signed-in']) $(id).hidden = id !== view;
    $('loading').setAttribute('aria-busy', String(view === 'loading'));
    // Focus on a control that just disappeared is lost: move it to the new view's heading.
    const focused = document.activeElement;
    if (focused && focused !== document.body && focused.offsetParent === null) {
      const heading = view === 'signed-in' ? $('profile-title') : view === 'signed-out'
        ? ($('signin-form').hidden ? $('register-title') : $('signin-title')) : null;
      if (heading) heading.focus();
    }
  }

  // The server could not be asked (no network, 429, 503): say so, offer to try again.
  function showUnavailable(error) {
    show('loading');
    $('loading').setAttribute('aria-busy', 'false');
    $('loading-text').textContent = error.status === 429
      ? `Too many attempts. ${waitText(error.retryAfter)}` : `Your account could not be loaded: ${error.message}`;
    $('retry').hidden = false;
  }

  function showSignedOut(message, warn = false) {
    setToken(null);
    user = null;
    $('who').hidden = true;
    $('sessions').replaceChildren();
    show('signed-out');
    notice(message, warn);
  }

  async function showSignedIn(known) {
    user = known || (await call('/auth/user'));
    $('profile-name').textContent = user.name;
    $('profile-email').textContent = user.email;
    $('profile-role').textContent = user.role;
    $('who').textContent = user.email;
    $('who').hidden = false;
    show('signed-in');
    await loadSessions();
  }

  function waitText(seconds) {
    const value = Number.parseInt(seconds, 10);
    if (!Number.isFinite(value) || value <= 0) return 'Please wait a moment and try again.';
    if (value < 90) return `Try again in ${value} second${value === 1 ? '' : 's'}.`;
    const minutes = Math.ceil(value / 60);
    return `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  }

  // An API error on a form: each field's message next to it, the rest above the button.
  function showErrors(form, error) {
    clearErrors(form);
    const fields = (error.body && error.body.errors) || [];
    let placed = false;
    for (const { field, message } of fields) {
      const slot = form.querySelector(`.error[data-field="${CSS.escape(field)}"]`);
      if (!slot) continue;
      // "Current password" + "is incorrect": the field's label starts the sentence.
      const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
      const label = input && form.querySelector(`label[for="${CSS.escape(input.id)}"]`);
      slot.textContent = `${label ? label.textContent : field} ${message}.`;
      if (input) input.setAttribute('aria-invalid', 'true');
      placed = true;
    }
    const summary = form.querySelector('.form-error');
    if (error.status === 429) {
      summary.textContent = `Too many attempts. ${waitText(error.retryAfter)}`;
    } else if (error.status === 503) {
      summary.textContent = `The service is busy. ${waitText(error.retryAfter)}`;
    } else if (!placed || fields.length === 0) {
      summary.textContent = error.message;
    }
    const invalid = form.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
  }

  function clearErrors(form) {
    for (const slot of form.querySelectorAll('.error, .form-error')) slot.textContent = '';
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  // Runs a form's action with its button disabled; errors land on the form.
  function handle(form, action) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      clearErrors(form);
      try {
        await action(Object.fromEntries(new FormData(form)));
      } catch (error) {
        if (error instanceof ApiError && !$('signed-out').hidden && form.closest('#signed-in')) return;
        showErrors(form, error instanceof ApiError ? error : new ApiError(0, { message: 'Something went wrong. Please try again.' }, null));
      } finally {
        button.disabled = false;
      }
    });
  }

  // ----- sessions -----

  function deviceName(agent) {
    if (!agent) return 'Unknown device';
    const browser = /Edg\//.test(agent) ? 'Edge' : /OPR\//.test(agent) ? 'Opera' : /Firefox\//.test(agent) ? 'Firefox'
      : /(Chrome|Chromium|HeadlessChrome)\//.test(agent) ? 'Chrome' : /Safari\//.test(agent) ? 'Safari'
        : /curl\//.test(agent) ? 'curl' : null;
    const system = /Android/.test(agent) ? 'Android' : /iPhone|iPad/.test(agent) ? 'iOS' : /Windows/.test(agent) ? 'Windows'
      : /Mac OS X|Macintosh/.test(agent) ? 'macOS' : /Linux|X11/.test(agent) ? 'Linux' : null;
    if (browser && system) return `${browser} on ${system}`;
    return browser || system || agent.slice(0, 60);
  }

  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  function ago(iso) {
    const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
    const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month']];
    let value = seconds;
    for (const [size, unit] of steps) {
      if (Math.abs(value) < size) return unit === 'second' && Math.abs(value) < 45 ? 'just now' : relative.format(value, unit);
      value = Math.round(value / size);
    }
    return relative.format(value, 'year');
  }

  async function loadSessions() {
    $('sessions-error').textContent = '';
    const { sessions } = await call('/auth/sessions');
    const items = sessions.map((session) => {
      const item = document.createElement('li');
      item.className = 'session';
      item.dataset.sessionId = session.id;
      const text = document.createElement('div');
      const device = document.createElement('div');
      device.className = 'device';
      device.textContent = deviceName(session.userAgent);
      device.title = session.userAgent || '';
      if (session.current) {
        const badge = document.createElement('span');
        badge.className = 'badge current';
        badge.textContent = 'This device';
        device.append(badge);
      }
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = `${session.ip || 'unknown address'} · last active ${ago(session.lastUsedAt)} · signed in ${ago(session.createdAt)}`;
      meta.title = `Last used ${new Date(session.lastUsedAt).toLocaleString()}`;
      text.append(device, meta);
      item.append(text);
      if (!session.current) {
        const end = document.createElement('button');
        end.type = 'button';
        end.className = 'end-session';
        end.textContent = 'End session';
        end.setAttribute('aria-label', `End session: ${deviceName(session.userAgent)}, ${session.ip || 'unknown address'}`);
        end.addEventListener('click', () => endSession(session.id, end));
        item.append(end);
      }
      return item;
    });
    $('sessions').replaceChildren(...items);
  }

  async function endSession(id, button) {
    button.disabled = true;
    try {
      await call(`/auth/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
      notice('That session has ended; the device is signed out.');
      await loadSessions();
    } catch (error) {
      if (!$('signed-in').hidden) $('sessions-error').textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  async function logout(scope) {
    $('logout-error').textContent = '';
    const query = scope ? `?scope=${scope}` : '';
    try {
      await call(`/auth/logout${query}`, { method: 'POST', serial: true });
    } catch (error) {
      if (!$('signed-in').hidden) $('logout-error').textContent = error.message;
      return;
    }
    if (scope === 'others') {
      notice('Your other devices are signed out.');
      await loadSessions();
    } else {
      showSignedOut(scope === 'local' ? 'You are signed out on this device.' : 'You are signed out everywhere.');
    }
  }

  // ----- wiring -----

  function selectTab(register) {
    $('tab-signin').setAttribute('aria-selected', String(!register));
    $('tab-register').setAttribute('aria-selected', String(register));
    $('tab-signin').tabIndex = register ? -1 : 0;
    $('tab-register').tabIndex = register ? 0 : -1;
    $('signin-form').hidden = register;
    $('register-form').hidden = !register;
  }

  function wire() {
    GatehouseSession.on({
      signedOut: (message) => showSignedOut(message, true),
      notice: (text) => notice(text, true),
    });
    $('tab-signin').addEventListener('click', () => selectTab(false));
    $('tab-register').addEventListener('click', () => selectTab(true));
    for (const tab of [$('tab-signin'), $('tab-register')]) {
      tab.addEventListener('keydown', (event) => {
        if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
        event.preventDefault();
        const register = event.key === 'Home' ? false : event.key === 'End' ? true
          : $('tab-signin').getAttribute('aria-selected') === 'true';
        selectTab(register);
        (register ? $('tab-register') : $('tab-signin')).focus();
      });
    }

    handle($('signin-form'), async (fields) => {
      const data = await request('/auth/login', { method: 'POST', body: { email: fields.email, password: fields.password }, auth: false });
      setToken(data.accessToken);
      $('signin-form').reset();
      notice('');
      await showSignedIn(data.user);
    });

    handle($('register-form'), async (fields) => {
      const data = await request('/auth/register', {
        method: 'POST', body: { name: fields.name, email: fields.email, password: fields.password }, auth: false,
      });
      setToken(data.accessToken);
      $('register-form').reset();
      notice('Welcome! Your account is ready.');
      await showSignedIn(data.user);
    });

    handle($('password-form'), async (fields) => {
      const data = await call('/auth/password', {
        method: 'POST', body: { currentPassword: fields.currentPassword, newPassword: fields.newPassword }, serial: true,
      });
      setToken(data.accessToken);
      $('password-form').reset();
      notice('Password changed. Your other devices are signed out.');
      await loadSessions();
    });

    $('sessions-reload').addEventListener('click', () => loadSessions().catch((error) => {
      if (!$('signed-in').hidden) $('sessions-error').textContent = error.message;
    }));
    $('logout-local').addEventListener('click', () => logout('local'));
    $('logout-others').addEventListener('click', () => logout('others'));
    $('logout-all').addEventListener('click', () => logout(null));
    $('retry').addEventListener('click', () => start());

    // Back to a tab after a while: show the sessions as they are now (and find out at
    // once if this device was signed out meanwhile).
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && GatehouseSession.hasToken()) loadSessions().catch(() => {});
    });
  }

  async function start() {
    if (!wired) wire();
    wired = true;
    $('retry').hidden = true;
    $('loading-text').textContent = 'Checking whether you are signed in…';
    show('loading');
    let signedIn = false;
    try {
      signedIn = await refresh();
    } catch (error) {
      showUnavailable(error);
      return;
    }
    if (!signedIn) {
      showSignedOut('');
      return;
    }
    try {
      await showSignedIn(null);
    } catch (error) {
      if ($('signed-out').hidden) showUnavailable(error);
    }
  }

  document.addEventListener('DOMContentLoaded', start);
})();
