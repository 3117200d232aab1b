// The organiser's kiosk scanner: reads volunteers' personal QR codes through the site's camera loop
// (camera.js) and checks them in or out through the API (/api/v1/tasks/<code>/scan, signed in by the
// session cookie with the CSRF token). Every scan carries its own nonce, so sending it twice is harmless.
// When the network is gone (or a request fails) scans wait in localStorage with their scan time and are
// uploaded as a batch (…/offline-scans) once the network is back, with the phone's clock so the server
// can correct a wrong one; the server accepts each nonce once and flags what it cannot apply.
// A page whose codes must not be stored on the phone (residents' service cards, which never expire)
// sets data-offline-queue="off": a scan that cannot be sent is then reported as not recorded.
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  if (!root) return;
  var video = document.getElementById("kiosk-video");
  var resultBox = root.querySelector("[data-result]");
  var mark = root.querySelector("[data-mark]");
  var nameBox = root.querySelector("[data-name]");
  var messageBox = root.querySelector("[data-message]");
  var queueCount = root.querySelector("[data-queue-count]");
  var uploadButton = root.querySelector("[data-upload]");
  var netBadge = root.querySelector("[data-net]");
  var log = root.querySelector("[data-log]");
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var storageKey = root.dataset.queueKey;
  var queueing = root.dataset.offlineQueue !== "off";
  var kind = "in";
  var lastText = null;
  var lastSeen = 0;
  var flushing = false;
  var REPEAT_MS = 4000; // the same code seen again within this time is the same scan
  var BATCH = 200;
  var MAX_TOKEN = 500; // what the server reads of a code; anything longer is not one of ours anyway

  function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }

  // --- the queue, kept across reloads and restarts of the phone's browser ---
  function loadQueue() {
    if (!queueing) return [];
    try {
      var stored = JSON.parse(window.localStorage.getItem(storageKey) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (error) {
      return [];
    }
  }
  var queue = loadQueue();

  function saveQueue() {
    try {
      if (queueing) window.localStorage.setItem(storageKey, JSON.stringify(queue));
    } catch (error) {
      // Storage full or disabled: the queue still lives in memory while the page is open.
    }
    queueCount.textContent = String(queue.length);
    uploadButton.hidden = queue.length === 0;
    root.classList.toggle("has-queue", queue.length > 0);
  }

  // Keep a scan that could not be sent for later, or (queue off) say that it was not recorded.
  function hold(scan, message, unsent) {
    if (!queueing) {
      show("bad", "", unsent || msg("unsent"));
      return;
    }
    enqueue(scan);
    show("queued", "", message);
  }

  function enqueue(scan) {
    if (queue.some(function (item) { return item.nonce === scan.nonce; })) return;
    queue.push(scan);
    saveQueue();
  }

  function nonce() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- showing results ---
  function show(state, name, message) {
    resultBox.className = "kiosk-result is-" + state;
    resultBox.setAttribute("data-state", state);
    mark.textContent = state === "ok" ? "✓" : state === "bad" ? "✗" : state === "queued" ? "…" : "○";
    nameBox.textContent = name || "";
    messageBox.textContent = message || "";
    if (navigator.vibrate) navigator.vibrate(state === "ok" ? 80 : [60, 60, 60]);
  }

  function addLog(state, name, message, kindLabel) {
    var item = document.createElement("li");
    item.className = "kiosk-log-item is-" + state;
    var time = clock(new Date().toISOString()).slice(0, 5);
    item.textContent = time + " · " + kindLabel + " · " + (name ? name + " · " : "") + message;
    log.insertBefore(item, log.firstChild);
    while (log.children.length > 8) log.removeChild(log.lastChild);
  }

  // The clock time of an answer's ISO time, as people here read it (the site's time zone, not the
  // phone's); a time already given as a clock time is shown as it is.
  function clock(at) {
    if (!at || at.indexOf("T") === -1) return at || "";
    try {
      return new Date(at).toLocaleTimeString("zh-CN", { hour12: false, timeZone: root.dataset.timeZone });
    } catch (error) {
      return new Date(at).toTimeString().slice(0, 8);
    }
  }

  // An answer of the API: a result, or a refusal in its error shape {"error": {"code", "message"}}.
  function outcome(data) {
    if (data && data.error) {
      return { ok: false, code: data.error.code, message: data.error.message, name: data.error.person_name };
    }
    data = data || {};
    return { ok: !!data.ok, code: data.code, message: data.message, name: data.person_name || data.name, at: clock(data.at) };
  }

  function showResult(result, scanKind) {
    var state = result.ok ? "ok" : "bad";
    resultBox.setAttribute("data-code", result.code || "");
    show(state, result.name, (result.message || "") + (result.at ? " " + result.at : ""));
    addLog(state, result.name, result.message || "", root.getAttribute("data-label-" + scanKind));
  }

  function setOnline(online) {
    netBadge.textContent = online ? msg("online") : msg("offline");
    netBadge.className = "badge net-badge " + (online ? "badge-ok" : "badge-bad");
  }

  // --- talking to the server ---
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (response) {
      // A non-JSON answer (a proxy's error page, an expired CSRF token) counts as no answer.
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function submit(scan) {
    if (navigator.onLine === false) {
      hold(scan, msg("queued"));
      return;
    }
    post(root.dataset.scanUrl, { token: scan.token, kind: scan.kind, nonce: scan.nonce })
      .then(function (answer) {
        if (answer.status === 401) {
          hold(scan, msg("signed-out"), msg("signed-out"));
        } else if (answer.status >= 500) {
          throw new Error("server error");
        } else {
          setOnline(true);
          showResult(outcome(answer.data), scan.kind);
          flush(); // the network is back: send what waited
        }
      })
      .catch(function () {
        setOnline(false);
        hold(scan, msg("queued"));
      });
  }

  function dropFromQueue(nonces) {
    queue = queue.filter(function (item) { return !nonces[item.nonce]; });
    saveQueue();
    setOnline(true);
  }

  function flush() {
    if (flushing || queue.length === 0 || navigator.onLine === false) return;
    flushing = true;
    var batch = queue.slice(0, BATCH);
    post(root.dataset.uploadUrl, { scans: batch, sent_at: new Date().toISOString() })
      .then(function (answer) {
        if (answer.status === 401) {
          show("queued", "", msg("signed-out"));
          return false;
        }
        var done = {};
        if (answer.status === 422 && answer.data.error && answer.data.error.fields) {
          // The batch is refused whole when a scan in it cannot be read (a queue left by an older version
          // of this page): drop the scans it names ("scans.3.scanned_at"), or they would block the queue
          // for ever, and send the rest again.
          Object.keys(answer.data.error.fields).forEach(function (field) {
            var index = /^scans\.(\d+)\./.exec(field);
            if (index && batch[Number(index[1])]) done[batch[Number(index[1])].nonce] = true;
          });
          if (!Object.keys(done).length) throw new Error("upload refused");
          dropFromQueue(done);
          show("bad", "", msg("unreadable"));
          resultBox.setAttribute("data-code", "unreadable_dropped");
          return queue.length > 0;
        }
        if (answer.status !== 200 || !answer.data.results) throw new Error("upload refused");
        // Every nonce the server answered is recorded there (applied, replayed or flagged): drop it here.
        var flagged = 0;
        answer.data.results.forEach(function (result) {
          done[result.nonce] = true;
          if (!result.ok && !result.replay) flagged += 1;
        });
        dropFromQueue(done);
        show(flagged ? "bad" : "ok", "", flagged ? msg("review") : msg("uploaded"));
        resultBox.setAttribute("data-code", flagged ? "uploaded_with_conflicts" : "uploaded");
        return queue.length > 0;
      })
      .catch(function () {
        show("queued", "", msg("upload-failed"));
        return false;
      })
      .then(function (more) {
        flushing = false;
        if (more) flush();
      });
  }

  // --- the camera ---
  function onDecoded(text) {
    var now = Date.now();
    text = text.slice(0, MAX_TOKEN);
    if (text === lastText && now - lastSeen < REPEAT_MS) {
      lastSeen = now; // still the same code in front of the camera
      return;
    }
    lastText = text;
    lastSeen = now;
    submit({ token: text, kind: kind, nonce: nonce(), scanned_at: new Date().toISOString() });
  }

  root.querySelectorAll("[data-kind]").forEach(function (button) {
    button.addEventListener("click", function () {
      kind = button.getAttribute("data-kind");
      lastText = null; // the same person may now be scanned for the other direction
      root.querySelectorAll("[data-kind]").forEach(function (other) {
        var active = other === button;
        other.classList.toggle("is-active", active);
        other.setAttribute("aria-pressed", active ? "true" : "false");
      });
    });
  });
  uploadButton.addEventListener("click", flush);
  window.addEventListener("online", function () { setOnline(true); flush(); });
  window.addEventListener("offline", function () { setOnline(false); });
  window.setInterval(flush, 15000);

  setOnline(navigator.onLine !== false);
  saveQueue();
  flush();
  window.GongzhiCamera.start({
    video: video,
    interval: 120,
    onCode: function (text) {
      onDecoded(text);
      return false; // a kiosk goes on scanning the next person
    },
    onLooking: function () {
      show("idle", "", msg("looking"));
    },
    onUnavailable: function (reason) {
      show("bad", "", reason === "decoder" ? msg("nodecoder") : msg("nocamera"));
    },
  });
})();
