// The one camera loop of the site: the 扫码 tab, the organisers' kiosk, the dining point's card scanner
// and the merchant's hand-over page all read QR codes through GongzhiCamera.start (and photos through
// GongzhiCamera.decodeImage); each page only decides what a code means.
//
// The browser's own BarcodeDetector reads QR codes when it has one (Chrome on Android, Safari on macOS);
// elsewhere the npm package barcode-detector does, with ZXing compiled to WebAssembly. Both files come
// from this site's static files (includes/camera_assets.html starts fetching them while the page loads):
// the package would fetch its .wasm from a CDN unless told where this site serves it.
(function () {
  "use strict";
  var script = document.currentScript;
  var config = script ? script.dataset : {};
  var detecting = null;

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return Promise.resolve(window.BarcodeDetector.getSupportedFormats())
      .then(function (formats) {
        return formats.indexOf("qr_code") === -1 ? null : new window.BarcodeDetector({ formats: ["qr_code"] });
      })
      .catch(function () {
        return null;
      });
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = url;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function packagedDetector() {
    return loadScript(config.decoder).then(function () {
      var api = window.BarcodeDetectionAPI;
      var ready = api.prepareZXingModule({
        overrides: {
          locateFile: function (path, prefix) {
            return /\.wasm$/.test(path) ? config.wasm : prefix + path;
          },
        },
        fireImmediately: true,
      });
      // Waiting for the compiled module makes a missing or broken .wasm an error here, not a silent
      // failure of every frame.
      return Promise.resolve(ready).then(function () {
        return new api.BarcodeDetector({ formats: ["qr_code"] });
      });
    });
  }

  // One detector per page, made on first use.
  function detector() {
    if (!detecting) {
      detecting = nativeDetector().then(function (found) {
        return found || packagedDetector();
      });
    }
    return detecting;
  }

  function firstText(codes) {
    for (var i = 0; i < codes.length; i += 1) {
      if (codes[i].rawValue) return codes[i].rawValue;
    }
    return null;
  }

  // Start the rear camera in `options.video` and call `options.onCode(text)` for every QR code seen,
  // every `options.interval` ms at most; onCode returns true to stop. `onLooking()` once the camera and
  // the decoder are both ready; `onUnavailable(reason)` ("camera" or "decoder") if either is not.
  function start(options) {
    var video = options.video;
    var interval = options.interval || 100;
    var stopped = false;
    var stream = null;

    function stop() {
      stopped = true;
      if (stream) {
        stream.getTracks().forEach(function (track) {
          track.stop();
        });
      }
    }

    function later(next) {
      window.setTimeout(function () {
        window.requestAnimationFrame(next);
      }, interval);
    }

    function loop(reader) {
      function frame() {
        if (stopped) return;
        if (video.readyState < 2 || !video.videoWidth) {
          later(frame);
          return;
        }
        reader
          .detect(video)
          .then(function (codes) {
            var text = firstText(codes);
            if (text && options.onCode(text) === true) stop();
          })
          .catch(function () {
            // A frame that cannot be read (the camera was just switched off, a resize) is skipped.
          })
          .then(function () {
            later(frame);
          });
      }
      frame();
    }

    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      options.onUnavailable("camera");
      detector().catch(function () {}); // photos may still be read
      return { stop: stop };
    }
    var camera = navigator.mediaDevices
      .getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      })
      .then(function (media) {
        stream = media;
        if (stopped) stop();
        video.srcObject = media;
        return video.play();
      });
    Promise.all([camera.catch(function (error) {
      throw { reason: "camera", error: error };
    }), detector().catch(function (error) {
      throw { reason: "decoder", error: error };
    })])
      .then(function (ready) {
        if (stopped) return;
        if (options.onLooking) options.onLooking();
        loop(ready[1]);
      })
      .catch(function (failure) {
        stop();
        options.onUnavailable(failure && failure.reason === "decoder" ? "decoder" : "camera");
      });
    return { stop: stop };
  }

  // The text of the first QR code in a photo (a File or Blob), or null if there is none.
  function decodeImage(file) {
    return detector().then(function (reader) {
      return new Promise(function (resolve, reject) {
        var image = new Image();
        image.onload = function () {
          // A phone's photo is 12+ megapixels; a QR code reads as well at a fraction of that, far faster.
          var scale = Math.min(1, 1600 / Math.max(image.width, image.height));
          var canvas = document.createElement("canvas");
          canvas.width = Math.round(image.width * scale);
          canvas.height = Math.round(image.height * scale);
          canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
          URL.revokeObjectURL(image.src);
          reader.detect(canvas).then(function (codes) {
            resolve(firstText(codes));
          }, reject);
        };
        image.onerror = function () {
          URL.revokeObjectURL(image.src);
          resolve(null);
        };
        image.src = URL.createObjectURL(file);
      });
    });
  }

  window.GongzhiCamera = { start: start, decodeImage: decodeImage, detector: detector };
})();
