// Mapping page: each column's list says which fields other columns already use, and a field
// chosen twice is marked at once at the dropdown. The server refuses it as well (MappingForm)
// and its message lands under the dropdown through the autosave response.
(function () {
  "use strict";
  var SUFFIX = / \(used by '.*'\)$/;

  function refresh(form) {
    var selects = Array.prototype.slice.call(form.querySelectorAll('select[name^="col_"]'));
    var users = {};
    selects.forEach(function (select) {
      var header = select.closest("tr").getAttribute("data-header") || select.name;
      if (select.value && !(select.value in users)) { users[select.value] = header; }
    });
    selects.forEach(function (select) {
      var own = select.closest("tr").getAttribute("data-header") || select.name;
      Array.prototype.forEach.call(select.options, function (option) {
        var base = option.textContent.replace(SUFFIX, "");
        var user = option.value && users[option.value];
        option.textContent = user && user !== own ? base + " (used by '" + user + "')" : base;
      });
      var taken = select.value && users[select.value] !== own;
      if (taken) {
        select.setAttribute("aria-invalid", "true");
      } else if (!document.getElementById(select.id + "_error")) {
        select.removeAttribute("aria-invalid");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("map-form");
    if (!form) { return; }
    refresh(form);
    document.body.addEventListener("change", function (event) {
      var f = document.getElementById("map-form");
      if (f && f.contains(event.target)) { refresh(f); }
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      var f = document.getElementById("map-form");
      if (f) { refresh(f); }
    });
  });
})();
