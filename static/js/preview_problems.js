// Preview: "Jump to the next problem" scrolls (both ways) to the next row with an error on
// this page, and brings its first bad cell into view; at the page's end it follows the link to
// the next page of rows with problems.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-jump-problem]");
    if (!button) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll("table.preview-table tbody tr"))
      .filter(function (tr) { return tr.querySelector("td.cell-error") || tr.querySelector(".badge.error"); });
    var current = document.querySelector("tr.problem-current");
    var index = current ? rows.indexOf(current) + 1 : 0;
    if (current) current.classList.remove("problem-current");
    if (index >= rows.length) {
      var next = document.querySelector(".pagination a[rel=next], .pagination li.next a");
      if (next) { window.location.href = next.href; }
      else { button.textContent = "No more problems on this page"; }
      return;
    }
    var row = rows[index];
    row.classList.add("problem-current");
    var cell = row.querySelector("td.cell-error") || row;
    cell.scrollIntoView({ block: "center", inline: "center" });
    var fix = cell.querySelector("button.fix");
    if (fix) fix.focus({ preventScroll: true });
  });
})();
