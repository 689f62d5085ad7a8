// The campaign page: while its socket is open the server pushes the progress bar, and the bar's
// own once-a-second poll pauses (each poll is called off here while body.cmp-live is set: a
// trigger filter would need eval, which the Content-Security-Policy forbids); when the socket
// closes, the poll takes over again until the socket is back.
(function () {
  function fromCampaignSocket(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.id === "cmp-live";
  }
  document.addEventListener("htmx:wsOpen", function (event) {
    if (fromCampaignSocket(event)) document.body.classList.add("cmp-live");
  });
  document.addEventListener("htmx:wsClose", function (event) {
    if (fromCampaignSocket(event)) document.body.classList.remove("cmp-live");
  });
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "cmp-progress" && document.body.classList.contains("cmp-live")) event.preventDefault();
  });
})();
