// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-toggle]")) {
    const input = document.getElementById(button.dataset.toggle);
    if (!input) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      const masked = input.tagName === "TEXTAREA"
        ? input.classList.contains("secret") : input.type === "password";
      const show = masked;
      if (input.tagName === "TEXTAREA") input.classList.toggle("secret", !show);
      else input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", String(show));
    });
  }
  // After a failed submission, move focus to the explanation (and screen readers with it).
  const problem = document.getElementById("problem");
  if (problem) problem.focus();
  // Never send a secret twice by a double click.
  for (const form of document.querySelectorAll("form.form")) {
    form.addEventListener("submit", () => {
      const submit = form.querySelector("button[type=submit]");
      if (submit) { submit.disabled = true; submit.textContent = "Checking…"; }
    });
  }
});
