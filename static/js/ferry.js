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
