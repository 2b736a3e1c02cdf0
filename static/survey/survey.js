/* Progressive enhancement of the participant pages; every page also works without it.
 * - keys 1-6 pick an answer on the rating scale, unless the participant turns them off (the
 *   checkbox under the scale, remembered in localStorage: WCAG 2.1.4 character key shortcuts);
 * - a form with data-confirm asks before it is sent (the text comes translated from the page);
 * - a form is submitted once (double clicks do not send twice; the server is idempotent anyway);
 * - questionnaire answers are saved the moment they are given (fetch to the answer endpoint);
 * - the time on the page is sent with the answer (the server keeps its own times too). */
(function () {
  "use strict";
  var shownAt = Date.now();

  document.querySelectorAll("form[data-timed]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var field = form.querySelector("input[name=elapsed_ms]");
      if (field) field.value = String(Date.now() - shownAt);
    });
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      // Keep the clicked button's value: disable buttons only after the browser read it.
      setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  // Back/forward cache restores a page as it was left: make its forms usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    shownAt = Date.now();
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  var SHORTCUTS_KEY = "survey.keyboardShortcuts";
  function shortcutsOn() {
    try { return window.localStorage.getItem(SHORTCUTS_KEY) !== "off"; } catch (e) { return true; }
  }
  var scaleForm = document.querySelector("form.scale-form");
  if (scaleForm) {
    var toggle = document.getElementById("keyboard-shortcuts");
    if (toggle) {
      toggle.checked = shortcutsOn();
      toggle.closest(".shortcut-setting").hidden = false;
      toggle.addEventListener("change", function () {
        try { window.localStorage.setItem(SHORTCUTS_KEY, toggle.checked ? "on" : "off"); } catch (e) { /* private mode: this page only */ }
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (toggle ? !toggle.checked : !shortcutsOn()) return;
      // Typing in a field (e.g. the shortcut checkbox has focus) never answers.
      if (event.target && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) && event.target.type !== "checkbox") return;
      var button = scaleForm.querySelector('button[data-key="' + event.key + '"]');
      if (button) { event.preventDefault(); button.click(); }
    });
  }

  var qForm = document.querySelector("form.questionnaire-form");
  if (qForm && window.fetch) {
    var url = qForm.dataset.answerUrl;
    qForm.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.name || input.name.charAt(0) !== "q") return;
      var body = new FormData();
      body.append("csrfmiddlewaretoken", qForm.querySelector("[name=csrfmiddlewaretoken]").value);
      body.append("token", qForm.querySelector("[name=token]").value);
      body.append("instrument", qForm.dataset.instrument);
      body.append("number", input.name.slice(1));
      body.append("value", input.value);
      body.append("elapsed_ms", String(Date.now() - shownAt));
      var box = input.closest(".question");
      fetch(url, { method: "POST", body: body, headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (r.ok && box) box.classList.add("saved"); })
        .catch(function () { /* the page's own submit stores it anyway */ });
    });
  }
})();
