// The language switch. Text is switched by CSS (every language is in the page, one <span class="l l-xx">
// each); this file remembers the reader's choice across pages and switches what CSS cannot reach: the
// page's lang (which picks the right CJK glyphs), its <title>, and attributes such as the search box's
// placeholder and aria-labels, from each element's data-i18n table. Without this file (or without
// localStorage, as in some file:// setups) every page opens in the site's first language, attributes
// included.
(function () {
  "use strict";
  var KEY = "paperradar-lang";
  var radios = document.querySelectorAll('input[name="lang"]');
  if (!radios.length) { return; }

  var stars = {};
  try { stars = JSON.parse(document.body.getAttribute("data-stars") || "{}"); } catch (e) { stars = {}; }

  function apply(lang) {
    document.documentElement.lang = lang;
    if (typeof stars[lang] === "string") {
      document.querySelectorAll("[data-score]").forEach(function (el) {
        var label = stars[lang].replace("{score}", el.getAttribute("data-score"));
        el.setAttribute("title", label);
        el.setAttribute("aria-label", label);
      });
    }
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      var table;
      try { table = JSON.parse(el.getAttribute("data-i18n")); } catch (e) { return; }
      Object.keys(table).forEach(function (attr) {
        var value = table[attr][lang];
        if (typeof value !== "string") { return; }
        if (attr === "text") { el.textContent = value; } else { el.setAttribute(attr, value); }
      });
    });
  }

  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { saved = null; }
  radios.forEach(function (radio) {
    if (saved && radio.value === saved) { radio.checked = true; }
    radio.addEventListener("change", function () {
      if (!radio.checked) { return; }
      apply(radio.value);
      try { window.localStorage.setItem(KEY, radio.value); } catch (e) { /* storage unavailable: fine */ }
    });
  });
  var checked = document.querySelector('input[name="lang"]:checked');
  if (checked && checked.value !== document.documentElement.lang) { apply(checked.value); }
})();
