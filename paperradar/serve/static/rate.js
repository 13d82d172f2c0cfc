// Optional enhancement of the rating forms: post in the background and update the buttons in place.
// Without JavaScript the same forms post and redirect back, so nothing depends on this file.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("rate")) return;
  event.preventDefault();
  const body = new URLSearchParams(new FormData(form, event.submitter));
  const status = form.querySelector(".status");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const result = await response.json();
    form.dataset.rating = String(result.rating);
    form.querySelector("button.up").setAttribute("aria-pressed", String(result.rating === 1));
    form.querySelector("button.down").setAttribute("aria-pressed", String(result.rating === -1));
    const current = form.querySelector(".current");
    if (current) current.textContent = result.label;
  } catch (error) {
    if (status) status.textContent = `Could not save the rating (${error.message}); reload the page and try again.`;
  }
});
