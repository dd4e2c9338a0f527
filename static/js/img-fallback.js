/* Course pictures that fail to load (an unreachable CDN, a removed file) become the local
 * placeholder: every <img data-fallback>, or the URL its data-fallback names when it has one.
 *
 * Loaded with `defer` from base.html, as a static file: the Content-Security-Policy allows no
 * inline script. A deferred script runs after the page is parsed, when some images may already
 * have failed (their error event is gone): those are found by their state (complete with no
 * width, confirmed by decode()); later failures, htmx-swapped content included, are caught by
 * one capture-phase listener on the document (error events do not bubble).
 */
(function () {
  "use strict";

  var SELECTOR = "img[data-fallback]";
  var APPLIED = "data-fallback-applied";
  var script = document.currentScript;
  var placeholder = new URL(
    "../img/course-placeholder.svg",
    (script && script.src) || document.baseURI
  ).href;

  function swap(img) {
    if (img.hasAttribute(APPLIED)) {
      return; // the placeholder itself failed: never loop
    }
    img.setAttribute(APPLIED, "");
    img.removeAttribute("srcset");
    img.src = img.getAttribute("data-fallback") || placeholder;
  }

  function checkLoaded(img) {
    if (!img.complete || img.naturalWidth !== 0 || !img.getAttribute("src")) {
      return; // still loading (or lazy and not requested yet), or a real picture
    }
    if (typeof img.decode === "function") {
      // An SVG without intrinsic size also has no natural width: only a broken one rejects.
      img.decode().then(null, function () {
        swap(img);
      });
    } else {
      swap(img);
    }
  }

  document.addEventListener(
    "error",
    function (event) {
      var target = event.target;
      if (target instanceof HTMLImageElement && target.matches(SELECTOR)) {
        swap(target);
      }
    },
    true
  );

  Array.prototype.forEach.call(document.querySelectorAll(SELECTOR), checkLoaded);
})();
