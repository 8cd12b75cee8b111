"use strict";
// The VM table: the server filters, sorts, pages and renders it (GET /vms
// takes the query of GET /api/vms), so the first page comes with the HTML and
// 10,000 VMs never reach the browser. This script asks for another page the
// same way and puts the same parts of the server's render in place. Live
// states change a shown row at once and refresh the counts.
(() => {
  const {live, notice, rendered, stateBadge} = Pilot;
  const table = document.getElementById("vms");
  const q = document.getElementById("q");
  const selects = {state: "f-state", container: "f-container", cluster: "f-cluster"};
  let sortKey = table.dataset.sort, sortDir = table.dataset.dir, page = Number(table.dataset.page);
  const size = table.dataset.size;
  let asked = 0;  // the latest request: an older answer arriving late is dropped

  function show(fresh) {
    const shown = fresh.getElementById("vms");
    page = Number(shown.dataset.page);
    table.tBodies[0].replaceWith(shown.tBodies[0]);
    [...table.tHead.rows[0].cells].forEach((th, i) => {
      th.className = shown.tHead.rows[0].cells[i].className;
    });
    for (const id of ["count", "pageinfo"]) {
      document.getElementById(id).replaceChildren(...fresh.getElementById(id).childNodes);
    }
    for (const id of ["prev", "next"]) document.getElementById(id).disabled = fresh.getElementById(id).disabled;
    for (const id of Object.values(selects)) {  // the menus' choices; what is chosen stays
      const select = document.getElementById(id), value = select.value;
      select.replaceChildren(...fresh.getElementById(id).options);
      select.value = value;
    }
  }

  function load() {
    const ask = new URLSearchParams({page, size, sort: sortKey, dir: sortDir});
    if (q.value.trim()) ask.set("q", q.value.trim());
    for (const [key, id] of Object.entries(selects)) {
      const value = document.getElementById(id).value;
      if (value) ask.set(key, value);
    }
    const mine = ++asked;
    return rendered("/vms?" + ask, "vms").then((fresh) => {
      if (!fresh || mine !== asked) return;
      show(fresh);
      history.replaceState(null, "", "/vms?" + ask);  // a reload shows this same page
    }).catch((e) => notice(e.message, true));
  }

  // Typing is one request when it pauses; news (a cluster starting is a
  // stream of it) at most one a second, each a listing of every VM.
  let typing = null, refresh = null;

  function changed(news) {
    const tr = table.querySelector(`tr[data-name="${CSS.escape(news.name)}"]`);
    if (tr) tr.cells[1].replaceChildren(stateBadge(news.state));
    // The counts, and the rows a state filter or sort now picks.
    if (!refresh) refresh = setTimeout(() => { refresh = null; load(); }, 1000);
  }

  for (const th of table.tHead.rows[0].cells) {
    th.addEventListener("click", () => {
      sortDir = sortKey === th.dataset.key && sortDir === "asc" ? "desc" : "asc";
      sortKey = th.dataset.key;
      page = 0;  // the top of the new order, as after a filter
      load();
    });
  }
  q.addEventListener("input", () => {
    page = 0;
    clearTimeout(typing);
    typing = setTimeout(load, 150);
  });
  for (const id of Object.values(selects)) {
    document.getElementById(id).addEventListener("change", () => { page = 0; load(); });
  }
  document.getElementById("prev").addEventListener("click", () => { page--; load(); });
  document.getElementById("next").addEventListener("click", () => { page++; load(); });
  live(changed, load);
})();
