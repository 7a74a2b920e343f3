/* Rights-request forms (templates/partials/form.html): replaces the browser's
   validation bubbles with translated messages tied to each field, posts the
   request as JSON (schema rights-request.v1) and shows a printable receipt.
   Without this script the form still posts urlencoded and the endpoint redirects.
   Nothing typed is stored in the browser or sent anywhere but the form's action. */
(() => {
  'use strict';

  const TIMEOUT_MS = 15000;
  // Hidden inputs that describe the request rather than answer it.
  const META = ['schema', 'request_id', 'right', 'policy', 'version', 'lang', 'return_to', 'website'];

  const PolicySite = (window.PolicySite = window.PolicySite || {});

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Fills `{name}` placeholders; unknown ones are left as they are.
  const fill = (text, values) => (text || '').replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));

  function enhance(form) {
    if (form.hasAttribute('data-ps-enhanced')) return;
    form.setAttribute('data-ps-enhanced', '');
    form.noValidate = true; // our messages replace the native bubbles; the constraints stay

    const msg = form.dataset;
    const meta = (name) => form.elements.namedItem(name);
    const fieldsBox = form.querySelector('[data-ps-fields]');
    const submit = form.querySelector('[data-ps-submit]');
    const status = form.querySelector('[data-ps-status]');
    const alert = form.querySelector('[data-ps-alert]');
    const receipt = form.querySelector('[data-ps-receipt]');
    const endpoint = form.getAttribute('action'); // a field named "action" would shadow form.action
    let sending = false;

    // One id per filling of the form: retries reuse it so the endpoint can deduplicate.
    meta('request_id').value = uuid();

    const controls = () => Array.from(form.elements).filter((el) => el.name && el.willValidate && !META.includes(el.name));

    function messageFor(el) {
      const v = el.validity;
      if (v.valueMissing) return el.tagName === 'SELECT' ? msg.msgChoose : msg.msgRequired;
      if (v.typeMismatch && el.type === 'email') return msg.msgEmail;
      if (v.tooLong) return fill(msg.msgTooLong, { max: el.maxLength, length: el.value.length });
      if (v.tooShort) return fill(msg.msgTooShort, { min: el.minLength, length: el.value.length });
      if (v.badInput && el.type === 'date') return msg.msgDate;
      return msg.msgInvalid;
    }

    function showError(el, text) {
      const box = document.getElementById(`${el.id}-error`);
      if (box) {
        box.textContent = text;
        box.hidden = !text;
      }
      if (text) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }

    function check(el) {
      if (el.value && !el.value.trim()) el.value = ''; // spaces alone do not answer a required field
      const valid = el.validity.valid;
      showError(el, valid ? '' : messageFor(el));
      return valid;
    }

    function validate() {
      const invalid = controls().filter((el) => !check(el));
      alert.textContent = invalid.length ? msg.msgSummary : '';
      if (invalid.length) invalid[0].focus();
      return !invalid.length;
    }

    function payload() {
      const fields = {};
      controls().forEach((el) => {
        const value = el.value.trim();
        if (value) fields[el.name] = value;
      });
      return {
        schema: 'rights-request.v1',
        request_id: meta('request_id').value,
        right: meta('right').value,
        policy: meta('policy').value,
        version: meta('version').value,
        lang: meta('lang').value,
        submitted_at: new Date().toISOString(),
        fields,
        website: meta('website') ? meta('website').value : '',
      };
    }

    function setBusy(busy) {
      sending = busy;
      submit.disabled = busy;
      if (busy) submit.setAttribute('aria-busy', 'true');
      else submit.removeAttribute('aria-busy');
    }

    function fail(text) {
      setBusy(false);
      status.textContent = '';
      alert.textContent = text;
      submit.textContent = msg.labelRetry;
      submit.focus();
    }

    function succeed(answer) {
      const reference = answer.reference || answer.id || '';
      const lang = meta('lang').value || document.documentElement.lang || undefined;
      receipt.querySelector('[data-ps-receipt-date]').textContent =
        new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }).format(new Date());
      receipt.querySelector('[data-ps-receipt-reference]').textContent = reference;
      receipt.querySelector('[data-ps-receipt-reference-row]').hidden = !reference;
      receipt.querySelector('[data-ps-receipt-request-id]').textContent = meta('request_id').value;

      form.reset(); // hidden inputs keep their values; what the person typed goes
      meta('request_id').value = uuid();
      setBusy(false);
      submit.textContent = msg.labelSubmit;
      alert.textContent = '';
      status.textContent = msg.msgSent;
      fieldsBox.hidden = true;
      receipt.hidden = false;
      receipt.focus();
    }

    async function send() {
      setBusy(true);
      alert.textContent = '';
      status.textContent = msg.msgSending;
      if (navigator.onLine === false) return fail(msg.msgOffline);

      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
      let response;
      let answer;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          // The page's language: the endpoint words its refusals in it.
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': meta('lang').value },
          body: JSON.stringify(payload()),
          signal: abort.signal,
        });
        answer = await response.json().catch(() => ({}));
      } catch (error) {
        return fail(error.name === 'AbortError' ? msg.msgTimeout : msg.msgOffline);
      } finally {
        clearTimeout(timer);
      }

      if (response.ok) return succeed(answer || {});
      if (response.status >= 500) return fail(fill(msg.msgServer, { status: response.status }));
      const reason = answer && typeof answer.error === 'string' ? answer.error : '';
      return fail(reason ? fill(msg.msgRejected, { message: reason }) : fill(msg.msgRejectedStatus, { status: response.status }));
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (sending) return;
      if (validate()) send();
    });

    // Once a field has been flagged, let its message go as soon as it is fixed.
    form.addEventListener('input', (event) => {
      if (event.target.getAttribute('aria-invalid') === 'true') check(event.target);
    });
    form.addEventListener('change', (event) => {
      if (event.target.getAttribute('aria-invalid') === 'true') check(event.target);
    });

    // Opened from its summary (click or keyboard), the form takes the focus at once.
    const disclosure = form.closest('details[data-ps-disclosure]');
    if (disclosure) {
      disclosure.addEventListener('toggle', () => {
        const summary = disclosure.querySelector('summary');
        if (!disclosure.open || document.activeElement !== summary) return;
        const first = receipt.hidden ? controls()[0] : receipt;
        if (first) first.focus();
      });
    }

    receipt.querySelector('[data-ps-print]').addEventListener('click', () => window.print());
    receipt.querySelector('[data-ps-new-request]').addEventListener('click', () => {
      receipt.hidden = true;
      fieldsBox.hidden = false;
      status.textContent = '';
      const first = controls()[0];
      if (first) first.focus();
    });
  }

  PolicySite.forms = { enhance };

  // A link to a form (…/privacy/#form-erasure) opens the disclosure it waits in.
  const revealLinkedForm = () => {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const disclosure = target && target.closest('details[data-ps-disclosure]');
    if (disclosure) disclosure.open = true;
  };
  window.addEventListener('hashchange', revealLinkedForm);

  const enhanceAll = () => {
    document.querySelectorAll('form.ps-request').forEach(enhance);
    revealLinkedForm();
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', enhanceAll);
  else enhanceAll();
})();
