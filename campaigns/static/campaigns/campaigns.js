// The campaign page: while its socket is open the server pushes the progress bar, and the bar's
// own once-a-second poll pauses (its trigger checks body.cmp-live); when the socket closes, the
// poll takes over again until the socket is back.
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
})();
