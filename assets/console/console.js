// Keyboard use of the console: in a list, j/k move between rows and Enter opens the current
// one; on the queue, c claims the next items; on a problem page, t jumps to the first field of
// the first form (then Tab through it and Enter to submit). A ledger's button says it is
// working while the file is prepared. No dependencies.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  var current = -1;
  function mark(index) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("current");
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("current");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  // A ledger takes a while to prepare: say so on the button until the download starts.
  Array.prototype.forEach.call(document.querySelectorAll("form.export"), function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button");
      var label = button.textContent;
      button.textContent = "正在生成，请稍候…";
      button.disabled = true;
      setTimeout(function () { button.textContent = label; button.disabled = false; }, 15000);
    });
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    if (event.key === "j") { mark(current + 1); }
    else if (event.key === "k") { mark(current - 1); }
    else if (event.key === "Enter" && current >= 0) { window.location = rows[current].dataset.href; }
    else if (event.key === "c") {
      var claim = document.querySelector("form[action='/console/queue/claim']");
      if (claim) { event.preventDefault(); claim.requestSubmit(); }
    }
    else if (event.key === "t") {
      var first = document.querySelector("form.action select, form.action input:not([type=hidden]), form.action textarea");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
})();
