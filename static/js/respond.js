// Respondent pages: autosave and local times. Progressive enhancement only:
// without this file the Save button and the form work the same.
(function () {
  "use strict";

  // Show round times in the reader's own time zone.
  document.querySelectorAll("time.local-time").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) {
      t.textContent = d.toLocaleString(document.documentElement.lang || undefined,
        { dateStyle: "long", timeStyle: "short" });
    }
  });

  var form = document.getElementById("respond-form");
  if (!form || !window.fetch) { return; }
  var status = document.getElementById("save-status");
  var versionInput = document.getElementById("respond-version");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var msgs = {
    saving: form.getAttribute("data-msg-saving") || "Saving…",
    saved: form.getAttribute("data-msg-saved") || "Saved",
    stale: form.getAttribute("data-msg-stale") || "Changed elsewhere: reload the page.",
    failed: form.getAttribute("data-msg-failed") || "Not saved"
  };
  var dirty = {};
  var timer = null;
  var busy = false;
  var stale = false;
  // A button pressed while an autosave is in flight waits for it, so the
  // form posts the version that save returned (else it would be stale).
  var waiting = null;

  function resume() {
    if (!waiting) { return false; }
    var submitter = waiting.submitter;
    waiting = null;
    if (form.requestSubmit) { form.requestSubmit(submitter || undefined); }
    else if (submitter) { submitter.click(); } else { form.submit(); }
    return true;
  }

  // value reads the current answer of a question block as JSON.
  function value(block) {
    var kind = block.getAttribute("data-kind");
    var qid = block.getAttribute("data-qid");
    var name = "q" + qid;
    switch (kind) {
      case "multi_choice":
        return Array.prototype.map.call(block.querySelectorAll("input[name='" + name + "']:checked"), function (i) { return i.value; });
      case "matrix_yes_no":
        var m = {};
        block.querySelectorAll("input[type=radio]:checked").forEach(function (i) {
          m[i.getAttribute("data-row")] = i.value;
        });
        return m;
      case "single_choice": case "yes_no": case "scale":
        var c = block.querySelector("input[name='" + name + "']:checked");
        if (!c) { return null; }
        return kind === "scale" ? Number(c.value) : c.value;
      case "number":
        var v = block.querySelector("#" + name).value.trim().replace(",", ".");
        if (v === "") { return null; }
        var n = Number(v);
        return isNaN(n) ? undefined : n;
      default:
        return block.querySelector("#" + name).value;
    }
  }

  function show(text) { if (status) { status.textContent = text; } }

  function save() {
    timer = null;
    if (busy || stale) { return; }
    var answers = {};
    var any = false;
    Object.keys(dirty).forEach(function (qid) {
      var block = form.querySelector(".question[data-qid='" + qid + "']");
      var v = value(block);
      if (v !== undefined) { answers[qid] = v; any = true; }
    });
    if (!any) { return; }
    var sent = dirty;
    dirty = {};
    busy = true;
    show(msgs.saving);
    fetch(form.getAttribute("data-autosave"), {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify({ version: Number(versionInput.value), answers: answers })
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      busy = false;
      if (res.status === 200) {
        versionInput.value = res.body.version;
        show(msgs.saved);
        if (resume()) { return; }
        if (Object.keys(dirty).length) { schedule(); }
      } else if (res.status === 409 && res.body.error && res.body.error.code === "stale_version") {
        stale = true;
        show(res.body.error.message || msgs.stale);
        status.classList.add("error");
        resume();
      } else {
        Object.keys(sent).forEach(function (k) { dirty[k] = true; });
        show((res.body.error && res.body.error.message) || msgs.failed);
        resume();
      }
    }).catch(function () {
      busy = false;
      Object.keys(sent).forEach(function (k) { dirty[k] = true; });
      show(msgs.failed);
      resume();
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 1200);
  }

  function changed(e) {
    var block = e.target.closest(".question");
    if (!block) { return; }
    dirty[block.getAttribute("data-qid")] = true;
    schedule();
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // A form button posts every answer of the page anyway: stop the timer.
  form.addEventListener("submit", function (e) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (busy) {
      e.preventDefault();
      waiting = { submitter: e.submitter };
    }
  });
})();
