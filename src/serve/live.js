// Live reload for `policy-site serve` (never part of a built site).
// Listens to the server's events: `reload` reloads the page; `error` shows
// the build's errors (file:line: message) over the last good page, until a
// good build reloads it. Styled by live.css, which this script links.
(function () {
  'use strict';
  var PREFIX = '/__policy-site';
  var overlay = null;

  function linkStyles() {
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = PREFIX + '/live.css';
    document.head.appendChild(link);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function showErrors(report) {
    if (overlay) overlay.remove();
    overlay = element('section', 'ps-live-overlay');
    overlay.setAttribute('role', 'alert');
    overlay.appendChild(element('h2', 'ps-live-title', 'The site does not build: the last good version is shown'));
    var list = element('ul', 'ps-live-list');
    report.diagnostics.forEach(function (d) {
      var item = element('li', 'ps-live-item');
      item.appendChild(element('code', 'ps-live-place', d.place));
      item.appendChild(document.createTextNode(': ' + d.message));
      if (d.hint) item.appendChild(element('p', 'ps-live-hint', d.hint));
      list.appendChild(item);
    });
    overlay.appendChild(list);
    document.body.appendChild(overlay);
  }

  linkStyles();
  var events = new EventSource(PREFIX + '/events');
  events.addEventListener('reload', function () {
    location.reload();
  });
  // EventSource also fires `error` itself when the connection drops; only
  // the server's own events carry data.
  events.addEventListener('error', function (event) {
    if (event.data) showErrors(JSON.parse(event.data));
  });
})();
