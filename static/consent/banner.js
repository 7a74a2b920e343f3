/* Cookie consent: fetches the banner's markup (templates/partials/banner.html,
   one file per language that every page links in its head), reads its
   configuration from #ps-consent, keeps the visitor's choice in the first-party
   cookie `ps_consent`, runs consent-gated scripts and iframes, and records every
   choice with the site's consent endpoint (queued until the endpoint confirms).
   Load it with `defer`: gated elements wait for it, and so does Consent Mode. */
(() => {
  'use strict';

  const COOKIE = 'ps_consent';
  const QUEUE_KEY = 'ps_consent_queue';
  const QUEUE_MAX = 50; // an unreachable endpoint must not fill storage
  const SEND_TIMEOUT_MS = 8000;
  const DAY_MS = 864e5;
  const AD_SIGNALS = ['ad_storage', 'ad_user_data', 'ad_personalization'];

  const PolicySite = (window.PolicySite = window.PolicySite || {});
  const gpc = navigator.globalPrivacyControl === true;
  const inFlight = new Set();
  let cfg, root, dialog, categories, stored, bannerOpener, dialogOpener;

  const list = (text) => (text || '').split(',').filter(Boolean);
  const ids = (cats) => cats.map((c) => c.id);

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function readConfig() {
    const d = root.dataset;
    return {
      endpoint: d.endpoint,
      policy: d.policy,
      version: d.version,
      material: list(d.material),
      changesBase: d.changesBase,
      changesSince: d.changesSince || '',
      historyUrl: d.historyUrl || '',
      revision: d.revision,
      lifetimeDays: Number(d.lifetimeDays) || 182,
      bannerHash: d.bannerHash,
      lang: d.lang || document.documentElement.lang,
      consentMode: d.consentMode === 'true',
      savedMessage: d.msgSaved || '',
    };
  }

  function readCategories() {
    return Array.from(dialog.querySelectorAll('[data-ps-category]'), (input) => ({
      id: input.dataset.psCategory,
      required: input.hasAttribute('data-ps-required'),
      cookies: list(input.dataset.psCookies),
      input,
    }));
  }

  // ---- The stored choice (cookie `ps_consent`)

  function readStored() {
    const pair = document.cookie.split('; ').find((p) => p.startsWith(`${COOKIE}=`));
    if (!pair) return null;
    try {
      const v = JSON.parse(decodeURIComponent(pair.slice(COOKIE.length + 1)));
      return v && typeof v.id === 'string' && Array.isArray(v.c) && typeof v.v === 'string' ? v : null;
    } catch (e) {
      return null; // a damaged cookie counts as no choice: ask again
    }
  }

  function writeStored(choice) {
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    const maxAge = Math.round(cfg.lifetimeDays * 86400);
    document.cookie = `${COOKIE}=${encodeURIComponent(JSON.stringify(choice))}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
  }

  // Why the stored choice must be asked again, or '' while it still holds.
  function staleness(choice) {
    if (!choice) return 'none';
    if (!(Date.now() - Date.parse(choice.t) <= cfg.lifetimeDays * DAY_MS)) return 'expired';
    if (choice.r !== cfg.revision) return 'revision';
    if (cfg.material.some((date) => date > choice.v && date <= cfg.version)) return 'material';
    return '';
  }

  // Deletes cookies by name or `prefix*` on this host and every parent domain,
  // since a script may have set them on any of those.
  function deleteCookies(patterns) {
    const present = document.cookie.split('; ').map((p) => p.split('=')[0]);
    const names = new Set(patterns.filter((p) => !p.endsWith('*')));
    patterns.filter((p) => p.endsWith('*')).forEach((p) => {
      present.filter((n) => n && n.startsWith(p.slice(0, -1))).forEach((n) => names.add(n));
    });
    names.delete(COOKIE);
    const labels = location.hostname.split('.');
    const domains = [''];
    for (let i = 0; i < labels.length - 1; i++) domains.push(`; Domain=${labels.slice(i).join('.')}`);
    names.forEach((name) => domains.forEach((domain) => {
      document.cookie = `${name}=; Max-Age=0; Path=/${domain}`;
    }));
  }

  // ---- What a choice switches on

  // Runs `<script type="text/plain" data-consent>` by replacing it with a real
  // script (so it cannot match again), and loads or unloads gated iframes.
  function applyGates(granted) {
    document.querySelectorAll('script[type="text/plain"][data-consent]').forEach((old) => {
      if (!granted.includes(old.dataset.consent)) return;
      const script = document.createElement('script');
      Array.from(old.attributes).forEach((a) => {
        if (a.name !== 'type') script.setAttribute(a.name, a.value);
      });
      if (!old.hasAttribute('async')) script.async = false; // keep document order
      old.replaceWith(script);
    });
    document.querySelectorAll('iframe[data-consent][data-src]').forEach((frame) => {
      const allowed = granted.includes(frame.dataset.consent);
      if (allowed && !frame.hasAttribute('src')) {
        frame.src = frame.dataset.src;
      } else if (!allowed && frame.hasAttribute('src')) {
        const blank = frame.cloneNode(false); // a fresh frame: the old document goes away
        blank.removeAttribute('src');
        frame.replaceWith(blank);
      }
    });
  }

  function consentSignals(granted) {
    const state = (on) => (on ? 'granted' : 'denied');
    const signals = { analytics_storage: state(granted.includes('analytics')) };
    AD_SIGNALS.forEach((s) => { signals[s] = state(granted.includes('marketing')); });
    return signals;
  }

  function startConsentMode() {
    window.dataLayer = window.dataLayer || [];
    if (typeof window.gtag !== 'function') {
      // gtag.js reads Arguments objects from dataLayer, not arrays.
      window.gtag = function gtag() { window.dataLayer.push(arguments); };
    }
    window.gtag('consent', 'default', consentSignals([]));
  }

  function apply(granted) {
    if (cfg.consentMode) window.gtag('consent', 'update', consentSignals(granted));
    applyGates(granted);
  }

  // ---- Consent records, queued in localStorage until the endpoint answers 2xx

  function loadQueue() {
    try {
      const queue = JSON.parse(localStorage.getItem(QUEUE_KEY));
      return Array.isArray(queue) ? queue : [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue(queue) {
    try {
      localStorage.setItem(QUEUE_KEY, JSON.stringify(queue.slice(-QUEUE_MAX)));
    } catch (e) {
      // Storage is off or full: the record is still sent once from this page.
    }
  }

  function send(record) {
    if (inFlight.has(record.record_id)) return;
    inFlight.add(record.record_id);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
    fetch(cfg.endpoint, {
      method: 'POST',
      keepalive: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(record),
      signal: abort.signal,
    })
      .then((response) => {
        if (response.ok) saveQueue(loadQueue().filter((r) => r.record_id !== record.record_id));
      })
      .catch(() => {}) // stays queued; the next page load sends it again
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(record.record_id);
      });
  }

  function flushQueue() {
    loadQueue().forEach(send);
  }

  // ---- Making a choice

  function publicState(choice) {
    if (!choice) return null;
    const granted = {};
    categories.forEach((c) => { granted[c.id] = c.required || choice.c.includes(c.id); });
    return { id: choice.id, categories: granted, version: choice.v, revision: choice.r, time: choice.t, gpc: choice.g, current: !staleness(choice) };
  }

  function choose(action, granted) {
    const before = stored ? stored.c : [];
    const withdrawn = before.filter((id) => !granted.includes(id));
    if (action !== 'gpc' && withdrawn.length && granted.every((id) => before.includes(id))) action = 'withdraw';

    const time = new Date().toISOString();
    const recordId = uuid();
    // k, a, p, l: what the receipt (receipt.js) names.
    stored = { id: stored ? stored.id : uuid(), c: granted, v: cfg.version, r: cfg.revision, t: time, g: gpc, k: recordId, a: action, p: location.pathname, l: cfg.lang };
    writeStored(stored);
    deleteCookies(categories.filter((c) => withdrawn.includes(c.id)).flatMap((c) => c.cookies));
    apply(granted);

    const record = {
      schema: 'consent-record.v1',
      record_id: recordId,
      consent_id: stored.id,
      action,
      categories: publicState(stored).categories,
      policy: cfg.policy,
      version: cfg.version,
      lang: cfg.lang,
      gpc,
      time,
      banner_hash: cfg.bannerHash,
      revision: cfg.revision,
      page: location.pathname,
    };
    saveQueue(loadQueue().concat(record));
    send(record);
    document.dispatchEvent(new CustomEvent('ps:consent', { detail: Object.assign({ action }, publicState(stored)) }));
  }

  function decide(action, granted) {
    choose(action, granted);
    if (dialog.open) dialog.close();
    hideBanner();
    const status = document.getElementById('ps-consent-status');
    if (status) status.textContent = cfg.savedMessage;
  }

  // ---- The first layer and the settings dialog

  const focusable = (el) => el && el.isConnected && el !== document.body && !el.closest('[hidden]');

  // `agreed` is the choice being asked again, whose version the changes link starts from.
  function showBanner(reason, agreed) {
    const changed = root.querySelector('[data-ps-changed]');
    if (reason === 'material') {
      // Versions older than the oldest full redline against the current one
      // link to the history from that version on (ISO dates compare as text).
      root.querySelector('[data-ps-changes-link]').href = agreed.v < cfg.changesSince
        ? `${cfg.historyUrl}#v-${agreed.v}`
        : `${cfg.changesBase}${agreed.v}/${cfg.version}/`;
      changed.hidden = false;
    }
    // With GPC the refusal is already recorded: offer settings, not a fresh choice.
    root.querySelectorAll('[data-ps-choice]').forEach((b) => { b.hidden = gpc; });
    root.querySelector('[data-ps-action="dismiss"]').hidden = !gpc;
    bannerOpener = document.activeElement;
    root.hidden = false;
    root.querySelector('#ps-consent-title').focus();
  }

  function hideBanner() {
    const hadFocus = root.contains(document.activeElement);
    root.hidden = true;
    if (hadFocus && focusable(bannerOpener)) bannerOpener.focus();
  }

  function openSettings() {
    if (!dialog || dialog.open) return;
    const granted = stored && !staleness(stored) ? stored.c : [];
    categories.forEach((c) => { if (!c.required) c.input.checked = granted.includes(c.id); });
    // The receipt's code (receipt.js) waits until someone opens the settings.
    if (!PolicySite.receipt && dialog.dataset.receiptScript) {
      PolicySite.receipt = {};
      document.head.append(Object.assign(document.createElement('script'), { src: dialog.dataset.receiptScript, integrity: dialog.dataset.receiptScriptIntegrity }));
    }
    dialogOpener = document.activeElement;
    dialog.showModal();
  }

  function onAction(action) {
    const all = ids(categories);
    const required = ids(categories.filter((c) => c.required));
    if (action === 'accept_all') decide('accept_all', all);
    else if (action === 'reject_all') decide('reject_all', required);
    else if (action === 'save') decide('customize', ids(categories.filter((c) => c.required || c.input.checked)));
    else if (action === 'customize') openSettings();
    else if (action === 'dismiss') hideBanner();
    else if (action === 'close') dialog.close();
  }

  function onClick(event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest('[data-ps-consent-open]')) {
      event.preventDefault();
      openSettings();
      return;
    }
    const button = target.closest('[data-ps-action]');
    if (button && (root.contains(button) || dialog.contains(button))) onAction(button.dataset.psAction);
  }

  function init() {
    root = document.getElementById('ps-consent');
    dialog = document.getElementById('ps-consent-settings');
    if (!root || !dialog) return;
    cfg = readConfig();
    categories = readCategories();
    if (cfg.consentMode) startConsentMode();

    dialog.addEventListener('close', () => {
      // Back to the opener, or, when that was the now hidden banner, to where focus was before it.
      const target = focusable(dialogOpener) ? dialogOpener : bannerOpener;
      if (focusable(target)) target.focus();
    });
    document.addEventListener('click', onClick);
    // The footer's settings button is hidden in the page: it only works with this script.
    document.querySelectorAll('[data-ps-consent-open], .ps-consent-open-sep').forEach((el) => { el.hidden = false; });
    document.querySelectorAll('[data-ps-gpc]').forEach((p) => { p.hidden = !gpc; });

    flushQueue();
    stored = readStored();
    const reason = staleness(stored);
    if (!reason) {
      apply(stored.c);
      return;
    }
    const agreed = stored;
    if (gpc) choose('gpc', ids(categories.filter((c) => c.required)));
    showBanner(reason, agreed);
  }

  PolicySite.consent = {
    open: () => openSettings(),
    get: () => (cfg ? publicState(stored) : null),
  };

  // Pages link the banner's markup instead of carrying a copy: it is fetched
  // (the head preloads it, and the integrity hash is checked) and added at the
  // end of the page. Until it is there nothing gated runs.
  function start() {
    if (document.getElementById('ps-consent')) {
      init();
      return;
    }
    // The link carries the file's integrity hash in `data-ps-banner`
    // (browsers ignore `integrity` on a preload of this kind, and say so).
    const link = document.querySelector('link[data-ps-banner]');
    if (!link) return;
    const options = { integrity: link.dataset.psBanner || '', credentials: 'same-origin' };
    fetch(link.href, options)
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      })
      .then((html) => {
        document.body.insertAdjacentHTML('beforeend', html);
      })
      .then(init, (error) => {
        console.warn(`policy-site: the cookie banner did not load from ${link.href}:`, error);
      });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
