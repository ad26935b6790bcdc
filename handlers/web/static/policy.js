// Live validation for the policy editor: while an admin types a rule, the
// whole form is sent to /admin/policy/validate (the same validation as
// saving, nothing is stored) and each problem is shown next to its field.
// Without this script the form works the same; problems show after saving.
(function () {
  "use strict";
  var form = document.getElementById("policy-form");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-validate");
  var status = document.getElementById("live-status");
  var timer = null;
  var seq = 0;

  function show(errors) {
    var nodes = form.querySelectorAll("p.field-error[data-for]");
    for (var i = 0; i < nodes.length; i++) {
      var name = nodes[i].getAttribute("data-for");
      var input = document.getElementById("f-" + name);
      var msg = errors[name];
      nodes[i].textContent = msg || "";
      nodes[i].hidden = !msg;
      if (input) {
        if (msg) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
      }
    }
    var n = Object.keys(errors).length;
    if (status) {
      status.hidden = false;
      status.textContent = n === 0 ? form.getAttribute("data-valid") || "" : form.getAttribute("data-invalid") || "";
    }
  }

  function validate() {
    var mine = ++seq;
    fetch(url, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (data && mine === seq) {
        show(data.errors || {});
      }
    }).catch(function () { /* offline: the server checks on save */ });
  }

  form.addEventListener("input", function (ev) {
    var t = ev.target;
    if (!t || !t.getAttribute || !t.getAttribute("data-live")) {
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(validate, 350);
  });
})();
