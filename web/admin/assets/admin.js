// Live counters: poll counters.json and derive commands/s from successive samples.
(function () {
  "use strict";
  var box = document.getElementById("counters");
  if (!box) { return; }
  var url = box.getAttribute("data-src");
  var last = null;
  function set(name, text) {
    var el = document.getElementById(name);
    if (el) { el.textContent = text; }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c) { return; }
        set("c-sessions", c.sessions.toLocaleString());
        set("c-users", c.users.toLocaleString());
        if (last && c.at > last.at && c.commands >= last.commands) {
          var rate = (c.commands - last.commands) * 1000 / (c.at - last.at);
          set("c-rate", rate.toFixed(rate < 10 ? 1 : 0));
        }
        last = c;
        box.setAttribute("data-polls", String(Number(box.getAttribute("data-polls") || "0") + 1));
      })
      .catch(function () {});
  }
  poll();
  setInterval(poll, Number(box.getAttribute("data-interval") || "2000"));
})();
