// Small progressive enhancements shared by every page. htmx does the heavy lifting.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("htmx-error");
  if (!box) {
    box = document.createElement("p");
    box.id = "htmx-error";
    box.className = "message error";
    box.setAttribute("role", "alert");
    document.getElementById("main").prepend(box);
  }
  var status = event.detail.xhr.status;
  box.textContent = status === 403 ? "You do not have permission to do that."
    : status === 404 ? "That item no longer exists or belongs to another organization."
    : "Something went wrong (" + status + "). Please try again.";
});

// The top bar's Menu button (shown on narrow screens by ferry.css): opens and closes the menu.
(function () {
  var header = document.querySelector(".topbar");
  var button = header && header.querySelector(".menu-toggle");
  if (!button) return;
  header.classList.add("js-menu");
  button.hidden = false;
  function set(open) {
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () {
    set(!header.classList.contains("menu-open"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      set(false);
      button.focus();
    }
  });
})();
