// The care inbox's only script; every page works without it. It refreshes the queue in place, says so when the
// session has ended, tells an agent when someone else acted on the task they have open, opens the filter panels
// on wide screens, copies reply templates, counts a reply's characters against the platform's limit, puts a
// template into the reply, and adds keyboard shortcuts (? shows them).
"use strict";
(function () {
  const wide = window.matchMedia("(min-width: 641px)");
  const timers = [];
  const chosen = {};  // details the agent opened or closed, by data-key: kept across refreshes

  function signedOut() {
    const banner = document.getElementById("signed-out");
    if (banner) banner.hidden = false;
    const queue = document.getElementById("queue");
    if (queue) queue.classList.add("stale");
    timers.forEach(clearInterval);
  }

  function endedSession(response) {
    return response.status === 401 || response.status === 403 ||
      (response.redirected && new URL(response.url).pathname === "/login");
  }

  function openPanels(root) {
    root.querySelectorAll("details.wide-open").forEach(function (panel, i) {
      const key = panel.dataset.key || "panel" + i;
      panel.open = key in chosen ? chosen[key] : wide.matches;
      panel.addEventListener("toggle", function () { chosen[key] = panel.open; });
    });
  }
  openPanels(document);

  // ---------------------------------------------------------------- the queue, refreshed in place
  const queue = document.getElementById("queue");
  let current = null;  // the task id j/k moved to
  if (queue) {
    const every = parseInt(queue.dataset.refresh, 10) || 15000;
    const refresh = async function () {
      // Never pull the list from under someone tabbing through it or ticking tasks.
      if (queue.contains(document.activeElement) && document.activeElement !== document.body) return;
      if (queue.querySelector("input[type=checkbox]:checked")) return;
      try {
        const response = await fetch(queue.dataset.fragment, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (endedSession(response)) { signedOut(); return; }
        if (response.ok) {
          queue.innerHTML = await response.text();
          openPanels(queue);
          if (current) mark(queue.querySelector('tr[data-task="' + current + '"]'), false);
        }
      } catch (e) { /* offline for a moment: try again next time */ }
    };
    timers.push(setInterval(refresh, every));
  }

  // ---------------------------------------------------------------- the open task: changes by others
  const changes = document.getElementById("changes");
  if (changes) {
    const every = parseInt(changes.dataset.refresh, 10) || 15000;
    timers.push(setInterval(async function () {
      try {
        const response = await fetch(changes.dataset.url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (endedSession(response)) { signedOut(); return; }
        if (response.status === 200) changes.innerHTML = await response.text();
      } catch (e) { /* try again next time */ }
    }, every));
  }

  // ---------------------------------------------------------------- copy a reply template
  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try { await navigator.clipboard.writeText(field.value); } catch (e) { document.execCommand("copy"); }
    button.textContent = button.dataset.done || "✓";
  });

  // ---------------------------------------------------------------- the reply composer (listener/replies)
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

  // ---------------------------------------------------------------- keyboard shortcuts
  function rows() { return queue ? Array.from(queue.querySelectorAll("tr[data-task]")) : []; }

  function mark(row, focus) {
    rows().forEach(function (r) { r.classList.remove("current"); });
    if (!row) return;
    row.classList.add("current");
    current = row.dataset.task;
    if (focus) {
      const link = row.querySelector("td.id a");
      if (link) link.focus();
    }
  }

  function post(action, fields) {
    const token = document.querySelector("input[name=csrf]");
    if (!token) return;
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    Object.entries(Object.assign({ csrf: token.value }, fields)).forEach(function (pair) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = (target.closest && target.closest("textarea, select, [contenteditable]")) ||
      (target.tagName === "INPUT" && ["checkbox", "radio", "button", "submit"].indexOf(target.type) < 0);
    if (typing) return;  // keys are text there
    const help = document.getElementById("shortcuts");
    const list = rows();
    const row = list.find(function (r) { return r.dataset.task === current; });
    if (event.key === "?" && help) {
      help.hidden = !help.hidden;
      if (!help.hidden) help.scrollIntoView({ block: "nearest" });
    } else if (event.key === "/" && document.getElementById("q")) {
      const search = document.getElementById("q");
      const panel = search.closest("details");
      if (panel) panel.open = true;
      search.focus();
    } else if ((event.key === "j" || event.key === "k") && list.length) {
      const at = row ? list.indexOf(row) : -1;
      const next = event.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
      mark(list[next], true);
    } else if (event.key === "Enter" && row && !target.closest("a, button")) {
      window.location.href = "/tasks/" + row.dataset.task;
    } else if (event.key === "x" && row) {
      const box = row.querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    } else if (event.key === "a" && row && row.dataset.status === "open") {
      post("/tasks/" + row.dataset.task + "/act", { action: "ack", version: row.dataset.version,
                                                    next: window.location.pathname + window.location.search });
    } else if (event.key === "a" && !queue) {
      const ack = document.querySelector('form input[name=action][value=ack]');
      if (ack) ack.form.submit();
    } else {
      return;
    }
    event.preventDefault();
  });
})();
