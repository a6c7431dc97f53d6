// Counter: read a member card's QR with the tablet camera (jsQR, vendored) and open the
// member the same way typed entry does: /counter?q=<decoded text>. The server decides
// (unknown or revoked cards get the usual clear message). Typed entry stays the fallback.
(function () {
  "use strict";
  var button = document.getElementById("scan-button");
  var box = document.getElementById("scan-box");
  if (!button || !box || typeof jsQR !== "function") { return; }
  var video = box.querySelector("video");
  var status = box.querySelector(".status");
  var stopButton = document.getElementById("scan-stop");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var done = false;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    box.hidden = true;
    button.hidden = false;
  }

  function tick() {
    if (!stream || done) { return; }
    if (video.readyState >= video.HAVE_ENOUGH_DATA && video.videoWidth) {
      // Decode at most 800 px wide: enough for a card held in front of the camera.
      var scale = Math.min(1, 800 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        done = true;
        status.textContent = box.dataset.found;
        stop();
        window.location.assign(box.dataset.target + "?q=" + encodeURIComponent(code.data));
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  button.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      box.hidden = false;
      status.textContent = box.dataset.unsupported;
      return;
    }
    box.hidden = false;
    button.hidden = true;
    status.textContent = box.dataset.starting;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.setAttribute("playsinline", "");
        return video.play();
      })
      .then(function () { status.textContent = box.dataset.hint; window.requestAnimationFrame(tick); })
      .catch(function () { status.textContent = box.dataset.denied; button.hidden = false; });
  });
  if (stopButton) { stopButton.addEventListener("click", stop); }
})();
