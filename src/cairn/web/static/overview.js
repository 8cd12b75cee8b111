"use strict";
// The overview comes rendered by the server (the page shows before any script
// runs). On news this takes the same part of a fresh render of the page and
// puts it in place: one rendering of the overview, the server's, autoescaped.
(() => {
  const {live, notice, rendered} = Pilot;

  async function load() {
    const fresh = await rendered(location.pathname, "overview");
    if (fresh) document.getElementById("overview").replaceChildren(...fresh.getElementById("overview").childNodes);
  }

  let pending = null;
  // A burst of events (a cluster started) is one reload, not one per VM.
  function soon() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      load().catch((e) => notice(e.message, true));
    }, 300);
  }
  live(soon, soon);
})();
