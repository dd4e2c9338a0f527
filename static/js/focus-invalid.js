/* After a form comes back with errors, focus goes to its first wrong field, so that keyboard and
 * screen-reader users land where the correction is needed (WCAG 3.3.1, 2.4.3).
 *
 * Loaded with `defer` from base.html, as a static file: the Content-Security-Policy allows no
 * inline script. A field is wrong when the server marked it `.is-invalid` (crispy-forms and the
 * templates do). Nothing happens when the user already moved the focus, or when the page was
 * opened at an anchor (#content, #audit…).
 */
(function () {
  "use strict";

  var field = document.querySelector(
    "form .is-invalid:not([type=hidden]):not([disabled]), form [aria-invalid=true]:not([disabled])"
  );
  if (!field || window.location.hash) {
    return;
  }
  var active = document.activeElement;
  if (active && active !== document.body && active !== document.documentElement) {
    return;
  }
  field.focus({ preventScroll: true });
  field.scrollIntoView({ block: "center" });
})();
