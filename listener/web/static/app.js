// The care inbox's only script: refresh the queue in place, copy reply templates. Pages work without it.
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
})();
