// Times are shown in the viewer's zone: tell the server the browser's zone (used unless the user
// chose one). A file of its own, not inline: the Content-Security-Policy allows only our scripts.
(function () {
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("tz=" + tz) === -1) {
      document.cookie = "tz=" + tz + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) {}
})();
