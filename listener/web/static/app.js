// The care inbox's only script: refresh the queue in place, copy reply templates, count a reply's characters
// against the platform's limit and put a template into the reply. Pages work without it.
"use strict";
(function () {
  const queue = document.getElementById("queue");
  if (queue) {
    const every = parseInt(queue.dataset.refresh, 10) || 15000;
    const refresh = async function () {
      // Never pull the page from under someone who is tabbing through the queue.
      if (queue.contains(document.activeElement) && document.activeElement !== document.body) return;
      try {
        const response = await fetch(queue.dataset.fragment, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (response.ok && !response.redirected) queue.innerHTML = await response.text();
      } catch (e) { /* offline for a moment: try again next time */ }
    };
    setInterval(refresh, every);
  }
  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try { await navigator.clipboard.writeText(field.value); } catch (e) { document.execCommand("copy"); }
    button.textContent = button.dataset.done || "✓";
  });
  // A live character counter for reply text areas (data-limit: the platform's limit; data-count: the output).
  // Code points, as the server counts them; without the script the preview shows the count.
  const count = function (area) {
    const out = document.getElementById(area.dataset.count);
    if (!out) return;
    const used = Array.from(area.value).length;
    const limit = parseInt(area.dataset.limit, 10);
    out.textContent = limit ? used + " / " + limit : String(used);
    out.classList.toggle("over", Boolean(limit) && used > limit);
  };
  document.querySelectorAll("textarea[data-count]").forEach(count);
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-count]")) count(event.target);
  });
  // "Use in the reply": fill the composer in place (without the script the link reloads the page with it).
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a.use-template");
    const composer = document.getElementById("reply-text");
    if (!link || !composer) return;
    const template = link.parentElement.querySelector("textarea[readonly]");
    if (!template) return;
    event.preventDefault();
    composer.value = template.value;
    count(composer);
    composer.focus();
  });
})();
