// What every page of cairn's web page shares: building rows as text, actions
// with the session's CSRF token, the live stream. No value is ever put into
// the page as HTML: textContent only.
"use strict";
const Pilot = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function row(cells) {
    const tr = el("tr");
    for (const cell of cells) {
      const td = el("td");
      if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell ?? "-";
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  async function getJSON(url) {
    const answer = await fetch(url, {credentials: "same-origin"});
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.error || answer.statusText);
    return body;
  }

  // The server's render of `url` (a page of this site, perhaps with another
  // query), parsed, for parts of it to be put in place: one rendering of
  // them, the server's, autoescaped. Null when it is not that page (the
  // session ended: the login page came), after reloading to show why.
  async function rendered(url, part) {
    const answer = await fetch(url, {credentials: "same-origin"});
    const type = answer.headers.get("Content-Type") || "";
    if (type.includes("json")) throw new Error((await answer.json()).error || answer.statusText);
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    if (!answer.ok || !fresh.getElementById(part)) {
      location.reload();
      return null;
    }
    return fresh;
  }

  async function post(url, fields) {
    const form = new URLSearchParams(fields || {});
    const answer = await fetch(url, {
      method: "POST", credentials: "same-origin", body: form,
      headers: {"X-CSRF-Token": csrf},
    });
    const type = answer.headers.get("Content-Type") || "";
    const body = type.includes("json") ? await answer.json() : {};
    if (!answer.ok) throw new Error(body.error || answer.statusText);
    return body;
  }

  function notice(text, bad) {
    const box = document.getElementById("notice");
    box.textContent = text;
    box.className = bad ? "notice bad" : "notice";
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // Every state change the service hears, as {name, state}; onResync when
  // news was missed (reload the data): the service said so, or the stream was
  // cut and the browser opened it again (what it missed meanwhile is lost).
  function live(onState, onResync) {
    const dot = document.getElementById("live");
    const source = new EventSource("/api/events");
    let opened = false;
    source.addEventListener("open", () => {
      dot.classList.add("on");
      if (opened && onResync) onResync();
      opened = true;
    });
    source.addEventListener("error", () => { dot.classList.remove("on"); });
    source.addEventListener("state", (e) => onState(JSON.parse(e.data)));
    source.addEventListener("resync", () => onResync && onResync());
    return source;
  }

  function stateBadge(state) {
    return el("span", state ?? "-", "state s-" + String(state ?? "none").replace(/[^a-z-]/g, ""));
  }

  document.getElementById("logout")?.addEventListener("submit", async (e) => {
    e.preventDefault();
    await fetch("/logout", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf}});
    location.assign("/");
  });

  return {csrf, el, row, fill, getJSON, rendered, post, notice, live, stateBadge};
})();
