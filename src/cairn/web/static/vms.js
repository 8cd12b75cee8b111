"use strict";
// The VM table: every VM fetched once, then sorted, filtered and paged here
// (PAGE rows in the page at a time, so 10,000 VMs stay fast); live states
// change the rows in place.
(() => {
  const {el, row, fill, getJSON, live, stateBadge, notice} = Pilot;
  const PAGE = 100;
  const table = document.getElementById("vms");
  const q = document.getElementById("q");
  const selects = {state: "f-state", container: "f-container", cluster: "f-cluster"};
  let all = [];
  let byName = new Map();
  let sortKey = "name", sortDir = 1, page = 0;

  // One collator for every comparison: localeCompare with options builds one
  // per call, which made sorting 10,000 rows take a good part of a second.
  const collator = new Intl.Collator(undefined, {numeric: true});

  function text(v) { return Array.isArray(v) ? v.join(" ") : (v ?? ""); }

  function compare(a, b) {
    const x = a[sortKey], y = b[sortKey];
    if (typeof x === "number" && typeof y === "number") return (x - y) * sortDir;
    return collator.compare(text(x), text(y)) * sortDir;
  }

  function matching() {
    const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    const wanted = {};
    for (const [key, id] of Object.entries(selects)) wanted[key] = document.getElementById(id).value;
    return all.filter((vm) => {
      for (const [key, value] of Object.entries(wanted)) {
        if (value && String(vm[key] ?? "") !== value) return false;
      }
      if (!words.length) return true;
      const hay = [vm.name, vm.state, vm.container, vm.cluster, text(vm.macs), text(vm.ips), vm.boot]
        .join(" ").toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }

  function vmRow(vm) {
    const link = el("a", vm.name);
    link.href = "/vm/" + encodeURIComponent(vm.name);
    const tr = row([link, stateBadge(vm.state), vm.container, vm.cluster, vm.mem, vm.cpus,
      text(vm.macs) || "-", text(vm.ips) || "-", vm.boot]);
    tr.dataset.name = vm.name;
    return tr;
  }

  function render() {
    const rows = matching().sort(compare);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    fill(table, rows.slice(page * PAGE, (page + 1) * PAGE).map(vmRow));
    document.getElementById("count").textContent = `${rows.length} of ${all.length}`;
    document.getElementById("pageinfo").textContent = `page ${page + 1} of ${pages}`;
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page >= pages - 1;
    for (const th of table.tHead.rows[0].cells) {
      th.classList.toggle("asc", th.dataset.key === sortKey && sortDir === 1);
      th.classList.toggle("desc", th.dataset.key === sortKey && sortDir === -1);
    }
  }

  function options(key, id) {
    const select = document.getElementById(id);
    const kept = select.value;
    const values = [...new Set(all.map((vm) => vm[key]).filter((v) => v !== null))].sort();
    select.replaceChildren(select.options[0], ...values.map((v) => {
      const o = el("option", v);
      o.value = v;
      return o;
    }));
    select.value = kept;
  }

  function load() {
    return getJSON("/api/vms").then((data) => {
      all = data.vms;
      byName = new Map(all.map((vm) => [vm.name, vm]));
      for (const [key, id] of Object.entries(selects)) options(key, id);
      render();
    }).catch((e) => notice(e.message, true));
  }

  function changed(news) {
    const vm = byName.get(news.name);
    if (!vm) return;
    vm.state = news.state;
    const tr = table.querySelector(`tr[data-name="${CSS.escape(news.name)}"]`);
    if (tr) tr.cells[1].replaceChildren(stateBadge(news.state));
  }

  for (const th of table.tHead.rows[0].cells) {
    th.addEventListener("click", () => {
      sortDir = sortKey === th.dataset.key ? -sortDir : 1;
      sortKey = th.dataset.key;
      render();
    });
  }
  q.addEventListener("input", () => { page = 0; render(); });
  for (const id of Object.values(selects)) {
    document.getElementById(id).addEventListener("change", () => { page = 0; render(); });
  }
  document.getElementById("prev").addEventListener("click", () => { page--; render(); });
  document.getElementById("next").addEventListener("click", () => { page++; render(); });
  load();
  live(changed, load);
})();
