/* The consent receipt: the visitor's last choice, as the `ps_consent`
   cookie keeps it (static/consent/banner.js writes it), in the shape of
   ISO/IEC TS 27560:2023 as W3C DPV's profile writes it: filled into the
   notice the build wrote for this language (a file the settings dialog
   names; src/proof/receipt.rs fills it the same way for
   `consents export --format iso27560`) and saved as a file. Nothing about
   the visitor is sent: banner.js loads this file the first time the
   settings dialog opens, and it fetches the notice, static files both. */
(() => {
  'use strict';

  const PolicySite = (window.PolicySite = window.PolicySite || {});
  const METHODS = {
    accept_all: 'Accept all button of the cookie banner',
    reject_all: 'Reject all button of the cookie banner',
    customize: 'Switches saved in the cookie settings',
    withdraw: 'Consent taken back in the cookie settings',
    gpc: 'Global Privacy Control signal sent by the browser',
  };

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const hex = Array.from(bytes, (b, i) => (i === 6 ? (b & 15) | 64 : i === 8 ? (b & 63) | 128 : b).toString(16).padStart(2, '0')).join('');
    return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  }

  // The choice banner.js keeps, when it has what a receipt names.
  function choice() {
    const pair = document.cookie.split('; ').find((p) => p.startsWith('ps_consent='));
    try {
      const c = pair && JSON.parse(decodeURIComponent(pair.slice(11)));
      return c && c.k && c.a && Array.isArray(c.c) ? c : null;
    } catch (e) {
      return null;
    }
  }

  function receiptOf(choice, notice) {
    const banner = document.getElementById('ps-consent').dataset;
    const record = JSON.parse(notice);
    const site = record['dpv:hasDataController']['@id'].replace(/\/$/, '');
    const privacy = record['dpv:hasNotice'][0];
    if (choice.v !== privacy['dct:hasVersion']) {
      // Agreed to an earlier version: name it (the log holds its hashes).
      privacy['@id'] = privacy['schema:url'] = privacy['@id'].replace(privacy['dct:hasVersion'], choice.v);
      privacy['dct:identifier'] = `${banner.policy} ${choice.v}`;
      privacy['dct:hasVersion'] = choice.v;
      delete privacy['ps:textSha256'];
      delete privacy['ps:publicationLogEntry'];
    }
    record['@id'] = `urn:uuid:${choice.k}`;
    record['dct:identifier'] = choice.k;
    record['dct:created'] = choice.t;
    record['dpv:hasDataSubject'] = { '@type': 'dpv:DataSubject', 'dct:identifier': choice.id };
    record['dpv:hasNotice'].push({
      '@type': 'dpv:ConsentNotice',
      'dct:language': choice.l || banner.lang,
      'schema:url': site + (choice.p || '/'),
      'ps:bannerSha256': banner.bannerHash,
      'ps:inventoryRevision': choice.r,
    });
    const lifetime = record['ps:consentLifetimeDays'];
    delete record['ps:consentLifetimeDays'];
    record['dpv:hasProcess'].forEach((process) => {
      if (process['dpv:hasLegalBasis'] === 'dpv:LegitimateInterest') return;
      const given = choice.c.includes(process['dct:identifier']);
      const status = given ? 'dpv:ConsentGiven' : choice.a === 'withdraw' ? 'dpv:ConsentWithdrawn' : 'dpv:ConsentRefused';
      process['dpv:hasConsentStatus'] = {
        '@type': [status, 'dpv:ExpressedConsent'],
        'dpv:isIndicatedAtTime': choice.t,
        'dpv:isIndicatedBy': 'dpv:DataSubject',
        'dpv:hasIndicationMethod': METHODS[choice.a] || 'Cookie banner',
        'dpv:hasDuration': { '@type': 'dpv:TemporalDuration', 'rdf:value': `P${lifetime}D` },
      };
    });
    record['ps:action'] = choice.a;
    record['ps:gpc'] = choice.g === true;
    record['ps:recordSchema'] = 'consent-record.v1';
    return {
      '@context': record['@context'],
      '@type': 'dpv:ConsentReceipt',
      'dct:identifier': uuid(),
      'dct:conformsTo': 'https://w3id.org/dpv/schema/dpv-27560#receipt',
      'dct:created': new Date().toISOString(),
      'schema:recipient': 'dpv:DataSubject',
      'dpv:hasRecordOfActivity': record,
    };
  }

  function download(notice) {
    const last = choice();
    if (!last) return;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([JSON.stringify(receiptOf(last, notice), null, 2)], { type: 'application/ld+json' }));
    link.download = `consent-receipt-${last.t.slice(0, 10)}.json`;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // The offer shows whenever the dialog opens on a choice a receipt can name.
  async function start() {
    const dialog = document.getElementById('ps-consent-settings');
    const offer = dialog && dialog.querySelector('[data-ps-consent-receipt]');
    if (!offer || !dialog.dataset.receipt) return;
    const notice = await fetch(dialog.dataset.receipt, { integrity: dialog.dataset.receiptIntegrity, credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : null), () => null);
    if (!notice) return;
    const update = () => { offer.hidden = !choice(); };
    new MutationObserver(update).observe(dialog, { attributes: true, attributeFilter: ['open'] });
    update();
    offer.querySelector('button').addEventListener('click', () => download(notice));
    PolicySite.receipt = { of: () => { const c = choice(); return c && receiptOf(c, notice); } };
  }

  start();
})();
