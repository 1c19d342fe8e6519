(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Open the <details> a link points at (and any <details> around it), so the target is visible.
  function openTarget(id) {
    var el = id ? document.getElementById(id) : null;
    if (!el) { return; }
    for (var node = el; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }

  function hashTarget() {
    try { return decodeURIComponent(window.location.hash.slice(1)); } catch (e) { return ""; }
  }

  function showStatus(button, text) {
    var status = button.parentElement ? button.parentElement.querySelector(".copy-status") : null;
    if (status) { status.textContent = text; }
  }

  // Last resort when the Clipboard API is missing or refused (file:// pages, old browsers):
  // execCommand on a hidden textarea, else select the text so that Ctrl+C / Cmd+C copies it.
  function fallbackCopy(source, text, button) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    document.body.removeChild(area);
    if (copied) { showStatus(button, "Copied"); return; }
    var selection = window.getSelection ? window.getSelection() : null;
    if (selection && document.createRange) {
      var range = document.createRange();
      range.selectNodeContents(source);
      selection.removeAllRanges();
      selection.addRange(range);
    }
    showStatus(button, "Selected: press Ctrl+C to copy");
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { showStatus(button, "Copied"); },
        function () { fallbackCopy(source, text, button); }
      );
    } else {
      fallbackCopy(source, text, button);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var link = target.closest("a[data-open]");
    if (link) { openTarget(link.getAttribute("data-open")); }
    var button = target.closest("button[data-copy]");
    if (button) { copy(button); }
  });
  window.addEventListener("hashchange", function () { openTarget(hashTarget()); });
  openTarget(hashTarget());
})();
