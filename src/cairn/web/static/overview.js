"use strict";
// The overview comes rendered by the server (the page shows before any script
// runs). On news this takes the same part of a fresh render of the page and
// puts it in place: one rendering of the overview, the server's, autoescaped.
(() => {
  const {live, notice} = Pilot;
  const part = () => document.getElementById("overview");

  async function load() {
    const answer = await fetch(location.pathname, {credentials: "same-origin"});
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    const shown = fresh.getElementById("overview");
    if (!answer.ok || !shown) {  // logged out, or the session ended: show why
      location.reload();
      return;
    }
    part().replaceChildren(...shown.childNodes);
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
