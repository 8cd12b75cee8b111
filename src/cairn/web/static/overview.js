"use strict";
(() => {
  const {el, row, fill, getJSON, live, stateBadge, notice} = Pilot;

  function show(data) {
    const cards = document.getElementById("states");
    const total = el("div", null, "card");
    total.append(el("b", data.total), el("span", " VMs"));
    const parts = [total];
    for (const [state, count] of Object.entries(data.states)) {
      const card = el("div", null, "card");
      card.dataset.state = state;
      card.append(el("b", count), document.createTextNode(" "), stateBadge(state));
      parts.push(card);
    }
    cards.replaceChildren(...parts);
    fill(document.getElementById("containers"), data.containers.map((c) => row([
      c.name,
      c.reachable === null ? "-" : (c.reachable ? "yes" : "no"),
      c.vms, c.running, c.mem, `${c.vcpus} / ${c.cpus ?? "-"}`,
    ])));
    fill(document.getElementById("clusters"), data.clusters.map((c) => row([
      c.name, c.network, c.frontend, c.vms,
    ])));
    fill(document.getElementById("networks"), data.networks.map((n) => row([
      n.network, n.subnet ? `${n.subnet}/${n.netmask}` : "-", n.bridge, n.isolation, n.dhcp,
    ])));
  }

  let pending = null;
  function load() {
    getJSON("/api/overview").then(show).catch((e) => notice(e.message, true));
  }
  // A burst of events (a cluster started) is one reload, not one per VM.
  function soon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(); }, 300);
  }
  load();
  live(soon, soon);
})();
