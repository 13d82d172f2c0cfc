// Remembers the reader's language choice across pages. The switch itself is CSS; without this file (or
// without localStorage, as in some file:// setups) every page simply opens in the site's first language.
(function () {
  "use strict";
  var KEY = "paperradar-lang";
  var radios = document.querySelectorAll('input[name="lang"]');
  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { saved = null; }
  radios.forEach(function (radio) {
    if (saved && radio.value === saved) { radio.checked = true; }
    radio.addEventListener("change", function () {
      try { window.localStorage.setItem(KEY, radio.value); } catch (e) { /* storage unavailable: fine */ }
    });
  });
})();
