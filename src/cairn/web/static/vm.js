"use strict";
// One VM: its facts, its actions (the destructive ones ask first), its live
// state, and its serial console (xterm.js over a WebSocket).
(() => {
  const {el, row, fill, getJSON, post, live, stateBadge, notice} = Pilot;
  const name = document.getElementById("vm-name").dataset.name;
  const base = "/api/vm/" + encodeURIComponent(name);

  function show(data) {
    document.getElementById("state").replaceChildren(stateBadge(data.definition.status));
    const facts = Object.assign({}, data.definition, {
      appliance: data.host.appliance, os: data.host.os, boot: data.boot,
    });
    fill(document.getElementById("definition"),
      Object.entries(facts).map(([k, v]) => row([k, v])));
    fill(document.getElementById("interfaces"), data.interfaces.map((i) => row([
      i.iface, i.mac, i.ip, i.subnet, i.vlan,
    ])));
    fill(document.getElementById("disks"), data.disks.map((d) => row([d.disk, d.disksize, d.realsize])));
    const snaps = document.getElementById("snapshots");
    if (typeof data.snapshots === "string") fill(snaps, [row([data.snapshots])]);
    else if (!data.snapshots.length) fill(snaps, [row(["no snapshots"])]);
    else fill(snaps, data.snapshots.map((s) => row(Object.values(s))));
    document.getElementById("xml").textContent = data.xml;
  }

  function load() {
    getJSON(base).then(show).catch((e) => notice(e.message, true));
  }

  const dialog = document.getElementById("confirm");
  function ask(question) {
    return new Promise((resolve) => {
      document.getElementById("confirm-text").textContent = question;
      const done = (answer) => () => { dialog.close(); resolve(answer); };
      document.getElementById("confirm-yes").onclick = done(true);
      document.getElementById("confirm-no").onclick = done(false);
      dialog.showModal();
    });
  }

  for (const button of document.querySelectorAll("button.action")) {
    button.addEventListener("click", async () => {
      const action = button.dataset.action;
      if (button.dataset.confirm === "yes" && !(await ask(`${button.dataset.label} ${name}?`))) return;
      const input = document.getElementById("value-" + action);
      button.disabled = true;
      try {
        const done = await post(`${base}/${action}`, input ? {value: input.value} : {});
        notice(`${button.dataset.label}: done` + (done.warnings.length ? ` (${done.warnings.join("; ")})` : ""));
        load();
      } catch (e) {
        notice(e.message, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  // The console. xterm.js is fetched when one is first opened: the page
  // shows, and most visits end, without it. Its URLs are the button's (each
  // with its content's hash, kept by the browser).
  const status = document.getElementById("console-status");
  const opener = document.getElementById("console-open");
  let term = null, socket = null, terminalCode = null;

  function loaded(node) {
    return new Promise((resolve, reject) => {
      node.addEventListener("load", resolve);
      node.addEventListener("error", () => reject(new Error("could not load " + (node.src || node.href))));
      document.head.append(node);
    });
  }

  function loadTerminal() {
    terminalCode ??= Promise.all([
      ...opener.dataset.styles.split(" ").map((href) => Object.assign(el("link"), {rel: "stylesheet", href})),
      // async=false: fetched at once, run in this order (the addon after xterm).
      ...opener.dataset.scripts.split(" ").map((src) => Object.assign(el("script"), {src, async: false})),
    ].map(loaded));
    return terminalCode;
  }

  // The terminal, made once xterm.js has come.
  async function terminal() {
    status.textContent = "loading the terminal…";
    await loadTerminal();
    if (!term) {
      term = new Terminal({convertEol: false, cursorBlink: true, scrollback: 5000});
      const fit = new FitAddon.FitAddon();
      term.loadAddon(fit);
      term.open(document.getElementById("terminal"));
      fit.fit();
      term.onData((data) => {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(new TextEncoder().encode(data));
      });
    }
    return term;
  }

  opener.addEventListener("click", async () => {
    try {
      await terminal();
    } catch (e) {
      terminalCode = null;  // the next click tries again
      status.textContent = e.message;
      return;
    }
    if (socket) socket.close();
    const force = document.getElementById("console-force").checked ? "?force=yes" : "";
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}${base}/console${force}`);
    socket.binaryType = "arraybuffer";
    status.textContent = "connecting…";
    socket.addEventListener("open", () => { status.textContent = "connected"; term.focus(); });
    socket.addEventListener("message", (e) => {
      if (typeof e.data === "string") {
        status.textContent = "closed: " + JSON.parse(e.data).ended;
      } else {
        term.write(new Uint8Array(e.data));
      }
    });
    socket.addEventListener("close", () => {
      if (status.textContent === "connected" || status.textContent === "connecting…") status.textContent = "closed";
    });
  });

  load();
  live((news) => {
    if (news.name === name) document.getElementById("state").replaceChildren(stateBadge(news.state));
  }, load);
})();
