// Import wizard: drag-and-drop upload with a progress bar. Without JavaScript the form still
// posts normally; with it, the file goes up through XHR so the page shows progress and stays
// responsive for large files, and errors land next to the control they concern.
(function () {
  "use strict";

  function setErrors(form, errors) {
    form.querySelectorAll("[data-errors-for], .errorlist[data-js]").forEach(function (list) {
      list.innerHTML = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var general = form.querySelector("[data-general-error]");
    general.hidden = true;
    var firstInvalid = null;
    Object.keys(errors || {}).forEach(function (name) {
      var messages = errors[name].map(function (e) { return e.message; });
      var control = name === "__all__" ? null : form.querySelector('[name="' + name + '"]');
      if (!control) {
        general.textContent = messages.join(" ");
        general.hidden = false;
        return;
      }
      var id = control.id + "_error";
      var list = document.getElementById(id);
      if (!list) {
        list = document.createElement("ul");
        list.className = "errorlist";
        list.id = id;
        list.setAttribute("role", "alert");
        list.setAttribute("data-js", "");
        control.closest(".field").appendChild(list);
      }
      list.innerHTML = "";
      messages.forEach(function (m) {
        var li = document.createElement("li");
        li.textContent = m;
        list.appendChild(li);
      });
      control.setAttribute("aria-invalid", "true");
      var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(id) === -1) { described.push(id); }
      control.setAttribute("aria-describedby", described.join(" "));
      firstInvalid = firstInvalid || control;
    });
    if (firstInvalid) { firstInvalid.focus(); }
  }

  function showChosen(form, file) {
    var chosen = form.querySelector("[data-chosen]");
    if (!chosen) { return; }
    if (!file) { chosen.textContent = ""; return; }
    var size = file.size < 1024 * 1024 ? Math.max(1, Math.round(file.size / 1024)) + " KB"
      : (file.size / (1024 * 1024)).toFixed(1) + " MB";
    chosen.textContent = "Selected: " + file.name + " (" + size + ")";
  }

  function filterTemplates(form) {
    var data = document.getElementById("template-resources");
    var resource = form.querySelector('[name="resource"]');
    var select = form.querySelector('[name="template"]');
    if (!data || !resource || !select) { return; }
    var map = JSON.parse(data.textContent);
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) { return; }
      var fits = !resource.value || map[option.value] === resource.value;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) { select.value = ""; }
    });
  }

  function initUpload(form) {
    var input = form.querySelector('input[type="file"]');
    var zone = form.querySelector("[data-dropzone]");
    var resource = form.querySelector('[name="resource"]');
    var template = form.querySelector('[name="template"]');
    var templateMap = document.getElementById("template-resources");
    filterTemplates(form);
    if (resource) { resource.addEventListener("change", function () { filterTemplates(form); }); }
    if (template && templateMap) {
      template.addEventListener("change", function () {
        var map = JSON.parse(templateMap.textContent);
        if (template.value && map[template.value] && resource) { resource.value = map[template.value]; filterTemplates(form); }
      });
    }
    input.addEventListener("change", function () { showChosen(form, input.files[0]); });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.remove("dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen(form, input.files[0]);
      }
    });

    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      var box = form.querySelector("[data-progress]");
      var bar = box.querySelector("progress");
      var text = box.querySelector("[data-progress-text]");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        text.textContent = pct + " %";
      });
      xhr.upload.addEventListener("load", function () { text.textContent = "100 % — reading the file…"; });
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
        if (xhr.status === 200 && data && data.redirect) {
          window.location.assign(data.redirect);
          return;
        }
        button.disabled = false;
        box.hidden = true;
        if (data && data.errors) {
          setErrors(form, data.errors);
        } else {
          setErrors(form, { __all__: [{ message: xhr.status === 413
            ? "This file is too large to upload."
            : "The upload failed (" + xhr.status + "). Please try again." }] });
        }
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        box.hidden = true;
        setErrors(form, { __all__: [{ message: "The upload was interrupted. Check your connection and try again." }] });
      });
      button.disabled = true;
      box.hidden = false;
      bar.value = 0;
      text.textContent = "0 %";
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(initUpload);
  });
})();
