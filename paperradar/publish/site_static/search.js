// Client-side search over the prebuilt indexes, with no server: words (every word must occur, substring
// match, so CJK queries work) fused with meaning (the query's tf-idf vector against each paper's, built by
// publish/site_search.py) by the reciprocal-rank fusion `paperradar search` uses; "exact words" turns the
// meaning part off. The indexes arrive as globals set by search-index.js and search-meaning.js (a script
// tag works from file://, where fetch() of a local file is blocked); over HTTP the JSON files are the
// fallback. Results are built with DOM methods and textContent only: index text is never parsed as HTML.
(function () {
  "use strict";
  var GLOBAL = "PAPERRADAR_SEARCH";
  var MEANING_GLOBAL = "PAPERRADAR_MEANING";
  var MAX_RESULTS = 100;
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  var exactBox = document.getElementById("exact");
  if (!input || !list || !status) { return; }
  var docs = null;
  var meaning = null; // {terms: {word: [number, idf]}, postings: [[doc, weight, ...] per term], fusion}

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

  function loadGlobal(name, file) {
    if (window[name] && typeof window[name] === "object") { return Promise.resolve(window[name]); }
    return fetch(file).then(function (r) { return r.json(); });
  }

  // The meaning index turned around: for each word, the papers holding it and their weights, so a query
  // touches only its own words' papers.
  function prepareMeaning(raw) {
    if (!raw || raw.format !== "paperradar-site-meaning-1") { return null; }
    var at = {};
    docs.forEach(function (doc, i) { at[doc.d.id] = i; });
    var terms = {};
    raw.terms.forEach(function (word, n) { terms[word] = [n, raw.idf[n]]; });
    var postings = raw.terms.map(function () { return []; });
    raw.ids.forEach(function (id, row) {
      var doc = at[id];
      if (doc === undefined) { return; }
      var cells = raw.rows[row];
      for (var j = 0; j + 1 < cells.length; j += 2) { postings[cells[j]].push(doc, cells[j + 1]); }
    });
    return { terms: terms, postings: postings, fusion: raw.fusion };
  }

  // The tokens the index was built with (publish/site_search.py `tokens`, scikit-learn's analyzer): lower
  // case, accents stripped, runs of two or more letters/digits/underscores. Stop words need no list: they
  // are not in the vocabulary, and words outside it are ignored.
  function tokens(text) {
    var low = String(text || "").toLowerCase();
    if (/[^\x00-\x7f]/.test(low)) { low = low.normalize("NFKD").replace(/\p{Mn}/gu, ""); }
    return low.match(/[\p{L}\p{N}_]{2,}/gu) || [];
  }

  // Papers by similarity to the query: (1 + ln count) x idf per query word, dot product with each paper's
  // shipped weights (the query's length is the same for every paper, so it is left out). Best first;
  // equal scores keep the index's order (newest first).
  function nearest(query) {
    var counts = {};
    tokens(query).forEach(function (w) { if (meaning.terms[w]) { counts[w] = (counts[w] || 0) + 1; } });
    var scores = {};
    Object.keys(counts).forEach(function (w) {
      var entry = meaning.terms[w];
      var q = (1 + Math.log(counts[w])) * entry[1];
      var post = meaning.postings[entry[0]];
      for (var j = 0; j < post.length; j += 2) { scores[post[j]] = (scores[post[j]] || 0) + q * post[j + 1]; }
    });
    var found = Object.keys(scores).map(Number);
    found.sort(function (x, y) { return scores[y] - scores[x] || x - y; });
    return found.slice(0, meaning.fusion.depth);
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

  function wordRanking(terms) {
    var hits = [];
    for (var i = 0; i < docs.length; i++) {
      var s = score(docs[i], terms);
      if (s > 0) { hits.push([s, i]); }
    }
    hits.sort(function (x, y) { return y[0] - x[0] || x[1] - y[1]; });
    return hits.map(function (hit) { return hit[1]; });
  }

  // Weighted reciprocal-rank fusion, as rank/search/hybrid.py `fuse`: 1/(k + word rank) + w/(k + meaning
  // rank); ties keep the word order, then the meaning order. [[doc, found by words?], ...]
  function fuse(byWords, byMeaning) {
    var k = meaning.fusion.k, w = meaning.fusion.w;
    var wordRank = {}, meaningRank = {}, scores = {};
    byWords.forEach(function (doc, r) { wordRank[doc] = r + 1; scores[doc] = 1 / (k + r + 1); });
    byMeaning.forEach(function (doc, r) { meaningRank[doc] = r + 1; scores[doc] = (scores[doc] || 0) + w / (k + r + 1); });
    var order = Object.keys(scores).map(Number);
    var last = byWords.length + 1;
    order.sort(function (x, y) {
      return scores[y] - scores[x] || (wordRank[x] || last) - (wordRank[y] || last) ||
        (meaningRank[x] || 0) - (meaningRank[y] || 0);
    });
    return order.map(function (doc) { return [doc, wordRank[doc] !== undefined]; });
  }

  function snippet(text, candidates) {
    var low = norm(text);
    var term = "", at = -1;
    for (var i = 0; i < candidates.length && at === -1; i++) {
      term = candidates[i];
      at = term ? low.indexOf(term) : -1;
    }
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

  // The status line's words in that language (data-labels: {lang: {empty, none, count, loading, ...}}).
  var LABELS = {};
  try { LABELS = JSON.parse(status.getAttribute("data-labels") || "{}"); } catch (e) { LABELS = {}; }
  function label(key) {
    var table = LABELS[language()] || LABELS[Object.keys(LABELS)[0]] || {};
    return table[key] || "";
  }

  function exactOnly() { return !!(exactBox && exactBox.checked); }

  function render(query) {
    var terms = norm(query).split(/\s+/).filter(Boolean);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    status.removeAttribute("data-mode");
    if (!terms.length) { status.textContent = label("empty"); return; }
    var byWords = wordRanking(terms);
    var hybrid = !exactOnly() && meaning !== null;
    var hits = hybrid ? fuse(byWords, nearest(query)) : byWords.map(function (doc) { return [doc, true]; });
    var mode = hybrid ? "hybrid" : "exact";
    status.setAttribute("data-mode", mode);
    // How the list was made, beside its count; "none" alone unless the meaning index is missing.
    var missing = !exactOnly() && meaning === null;
    var how = missing ? label("meaning_missing") : label("how_" + mode);
    status.textContent = hits.length ? label("count").replace("{n}", String(hits.length)) + " · " + how :
      label("none") + (missing ? " · " + how : "");
    var marks = terms.concat(tokens(query));
    hits.slice(0, MAX_RESULTS).forEach(function (hit) {
      var d = docs[hit[0]].d;
      var li = document.createElement("li");
      li.setAttribute("data-id", d.id);
      li.setAttribute("data-found", hit[1] ? "words" : "meaning");
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
      if (!hit[1]) {
        var by = document.createElement("span");
        by.className = "by-meaning";
        by.textContent = label("by_meaning");
        li.appendChild(document.createTextNode(" "));
        li.appendChild(by);
      }
      li.appendChild(snippet(d.ab || "", marks));
      list.appendChild(li);
    });
  }

  var params = new URLSearchParams(window.location.search);
  input.value = params.get("q") || "";
  if (exactBox) { exactBox.checked = params.get("exact") === "1"; }
  status.textContent = label("loading");
  loadGlobal(GLOBAL, "search-index.json").then(function (raw) {
    docs = prepare(raw);
    // Without the meaning index (an older site, a failed download) the words still work, and say so.
    return loadGlobal(MEANING_GLOBAL, "search-meaning.json").then(prepareMeaning, function () { return null; });
  }).then(function (prepared) {
    meaning = prepared;
    render(input.value);
    input.addEventListener("input", function () { render(input.value); });
    if (exactBox) { exactBox.addEventListener("change", function () { render(input.value); }); }
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
