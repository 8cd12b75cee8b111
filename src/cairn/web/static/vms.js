"use strict";
// The VM table: the server filters, sorts and pages it (GET /api/vms asks
// for one page, so 10,000 VMs never reach the browser); this script only asks
// and shows. Live states change a shown row at once and refresh the counts.
(() => {
  const {el, row, fill, getJSON, live, stateBadge, notice} = Pilot;
  const PAGE = 100;
  const table = document.getElementById("vms");
  const q = document.getElementById("q");
  const selects = {state: "f-state", container: "f-container", cluster: "f-cluster"};
  let sortKey = "name", sortDir = "asc", page = 0;
  let asked = 0;  // the latest request: an older answer arriving late is dropped

  function text(v) { return Array.isArray(v) ? v.join(" ") : (v ?? ""); }

  function vmRow(vm) {
    const link = el("a", vm.name);
    link.href = "/vm/" + encodeURIComponent(vm.name);
    const tr = row([link, stateBadge(vm.state), vm.container, vm.cluster, vm.mem, vm.cpus,
      text(vm.macs) || "-", text(vm.ips) || "-", vm.boot]);
    tr.dataset.name = vm.name;
    return tr;
  }

  function options(id, values) {
    const select = document.getElementById(id);
    const kept = select.value;
    select.replaceChildren(select.options[0], ...values.map((v) => {
      const o = el("option", v);
      o.value = v;
      return o;
    }));
    if (kept && !values.includes(kept)) {  // still asked for: keep it in the menu
      const o = el("option", kept);
      o.value = kept;
      select.append(o);
    }
    select.value = kept;
  }

  function show(data) {
    page = data.page;
    fill(table, data.vms.map(vmRow));
    document.getElementById("count").textContent = `${data.matched} of ${data.total}`;
    document.getElementById("pageinfo").textContent = `page ${data.page + 1} of ${data.pages}`;
    document.getElementById("prev").disabled = data.page === 0;
    document.getElementById("next").disabled = data.page >= data.pages - 1;
    for (const [key, id] of Object.entries(selects)) options(id, data.facets[key]);
    for (const th of table.tHead.rows[0].cells) {
      th.classList.toggle("asc", th.dataset.key === sortKey && sortDir === "asc");
      th.classList.toggle("desc", th.dataset.key === sortKey && sortDir === "desc");
    }
  }

  function load() {
    // The first ask is the one vms.html preloads: keep the two the same.
    const ask = new URLSearchParams({page, size: PAGE, sort: sortKey, dir: sortDir});
    if (q.value.trim()) ask.set("q", q.value.trim());
    for (const [key, id] of Object.entries(selects)) {
      const value = document.getElementById(id).value;
      if (value) ask.set(key, value);
    }
    const mine = ++asked;
    return getJSON("/api/vms?" + ask).then((data) => {
      if (mine === asked) show(data);
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
  load();
  live(changed, load);
})();
