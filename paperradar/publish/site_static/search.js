// Client-side search over the prebuilt index. The index arrives as a global set by search-index.js (a
// script tag works from file://, where fetch() of a local file is blocked); over HTTP the JSON file is the
// fallback. Results are built with DOM methods and textContent only: index text is never parsed as HTML.
(function () {
  "use strict";
  var GLOBAL = "PAPERRADAR_SEARCH";
  var MAX_RESULTS = 100;
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  if (!input || !list || !status) { return; }
  var docs = null;

  function norm(text) {
    return String(text || "").normalize("NFKC").toLowerCase();
  }

  function prepare(raw) {
    return raw.map(function (d) {
      return {
        d: d,
        t: norm(d.t), tt: norm(Object.values(d.tt || {}).join(" ")), k: norm((d.k || []).join(" ")),
        s: norm((d.s || []).join(" ")), ab: norm(d.ab), a: norm((d.a || []).join(" ")), id: norm(d.id)
      };
    });
  }

  function load() {
    if (Array.isArray(window[GLOBAL])) { return Promise.resolve(window[GLOBAL]); }
    return fetch("search-index.json").then(function (r) { return r.json(); });
  }

  // Every word must occur somewhere; a word in a title counts more than one in the abstract.
  var WEIGHTS = [["t", 8], ["tt", 8], ["id", 8], ["k", 4], ["s", 2], ["ab", 1], ["a", 1]];
  function score(doc, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var best = 0;
      for (var j = 0; j < WEIGHTS.length; j++) {
        if (doc[WEIGHTS[j][0]].indexOf(terms[i]) !== -1 && WEIGHTS[j][1] > best) { best = WEIGHTS[j][1]; }
      }
      if (best === 0) { return 0; }
      total += best;
    }
    return total;
  }

  function snippet(text, term) {
    var low = norm(text);
    var at = term ? low.indexOf(term) : -1;
    var span = document.createElement("p");
    span.className = "snippet";
    if (at === -1 || low.length !== text.length) {
      span.textContent = text.slice(0, 220) + (text.length > 220 ? "…" : "");
      return span;
    }
    var from = Math.max(0, at - 90);
    var to = Math.min(text.length, at + term.length + 130);
    span.appendChild(document.createTextNode((from > 0 ? "…" : "") + text.slice(from, at)));
    var mark = document.createElement("mark");
    mark.textContent = text.slice(at, at + term.length);
    span.appendChild(mark);
    span.appendChild(document.createTextNode(text.slice(at + term.length, to) + (to < text.length ? "…" : "")));
    return span;
  }

  // The language chosen with the site's switch (titles are shown translated into it when possible).
  function language() {
    var checked = document.querySelector('input[name="lang"]:checked');
    return checked ? checked.value : document.documentElement.lang;
  }

  // The status line's words in that language (data-labels: {lang: {empty, none, count, loading}}).
  var LABELS = {};
  try { LABELS = JSON.parse(status.getAttribute("data-labels") || "{}"); } catch (e) { LABELS = {}; }
  function label(key) {
    var table = LABELS[language()] || LABELS[Object.keys(LABELS)[0]] || {};
    return table[key] || "";
  }

  function render(query) {
    var terms = norm(query).split(/\s+/).filter(Boolean);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!terms.length) { status.textContent = label("empty"); return; }
    var hits = [];
    for (var i = 0; i < docs.length; i++) {
      var s = score(docs[i], terms);
      if (s > 0) { hits.push([s, i]); }
    }
    hits.sort(function (x, y) { return y[0] - x[0] || x[1] - y[1]; });
    status.textContent = hits.length ? label("count").replace("{n}", String(hits.length)) : label("none");
    hits.slice(0, MAX_RESULTS).forEach(function (hit) {
      var d = docs[hit[1]].d;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = d.u;
      var translated = d.tt && d.tt[language()];
      a.textContent = translated || d.t;
      li.appendChild(document.createTextNode((d.e || "") + " "));
      li.appendChild(a);
      var sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = (translated ? " " + d.t : "") + " · " + d.d + " · arXiv:" + d.id;
      li.appendChild(sub);
      li.appendChild(snippet(d.ab || "", terms[0]));
      list.appendChild(li);
    });
  }

  var params = new URLSearchParams(window.location.search);
  input.value = params.get("q") || "";
  status.textContent = label("loading");
  load().then(function (raw) {
    docs = prepare(raw);
    render(input.value);
    input.addEventListener("input", function () { render(input.value); });
    document.querySelectorAll('input[name="lang"]').forEach(function (radio) {
      radio.addEventListener("change", function () { render(input.value); });
    });
  }).catch(function () {
    status.textContent = label("none");
  });
  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (docs) { render(input.value); }
  });
})();
