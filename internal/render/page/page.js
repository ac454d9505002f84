// Progressive enhancement only: the page reads the same without it.
(function () {
  "use strict";
  // The report's age, at the time the page is looked at: a CI artifact is
  // often opened days after the run.
  var t = document.querySelector("time[datetime]");
  var age = document.getElementById("age");
  function tick() {
    var at = t && Date.parse(t.getAttribute("datetime"));
    if (!age || !at) {
      return;
    }
    var s = Math.round((Date.now() - at) / 1000);
    if (s < 0) {
      age.textContent = "";
      return;
    }
    var words = s < 90 ? s + " s" : s < 5400 ? Math.round(s / 60) + " min" : s < 172800 ? Math.round(s / 3600) + " h" : Math.round(s / 86400) + " days";
    age.textContent = " (" + words + " ago)";
    age.className = s > 3600 ? "stale" : "";
  }
  tick();
  setInterval(tick, 30000);

  // A copy button after each suggested command.
  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  document.querySelectorAll("code.cmd").forEach(function (code) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy";
    b.textContent = "Copy";
    b.addEventListener("click", function () {
      function done() {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 1500);
      }
      function fallback() {
        select(code);
        try {
          if (document.execCommand("copy")) {
            done();
          }
        } catch (e) {
          // The command stays selected for Ctrl-C.
        }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code.textContent).then(done, fallback);
      } else {
        fallback();
      }
    });
    code.insertAdjacentElement("afterend", b);
  });
})();
