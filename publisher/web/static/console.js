// Passkey ceremonies for the console: enrol, log in, sign an action; Web Push subscription. No inline script:
// buttons carry data-passkey, data-options (POST: WebAuthn options as JSON) and
// data-submit (POST: the browser's answer); the server answers {redirect} or {error}.
// An enrolment sends the device's name with the new passkey (by default the platform
// the browser reports, which the person can change).
(function () {
  "use strict";
  function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }
  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify(body || {})}).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.error || ("HTTP " + response.status)); }
          return data;
        });
      });
  }
  function creation(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return navigator.credentials.create({publicKey: options}).then(function (c) {
      return {id: c.id, rawId: toText(c.rawId), type: c.type,
        response: {clientDataJSON: toText(c.response.clientDataJSON),
                   attestationObject: toText(c.response.attestationObject)}};
    });
  }
  function assertion(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return navigator.credentials.get({publicKey: options}).then(function (c) {
      return {id: c.id, rawId: toText(c.rawId), type: c.type,
        response: {clientDataJSON: toText(c.response.clientDataJSON),
                   authenticatorData: toText(c.response.authenticatorData),
                   signature: toText(c.response.signature),
                   userHandle: c.response.userHandle ? toText(c.response.userHandle) : null}};
    });
  }
  function deviceField() { return document.querySelector("input[data-default-device]"); }
  function deviceName() { var field = deviceField(); return field ? field.value : ""; }
  function fillDevice() {
    var field = deviceField();
    if (field && !field.value) {
      field.value = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || "";
    }
  }
  function fail(element, error) {
    var near = element.closest(".actionbar, section, main");
    var box = near.querySelector(".error[role=alert]") || element.closest("main").querySelector(".error[role=alert]");
    if (box) { box.textContent = error.message || String(error); box.hidden = false; }
  }
  function run(element, kind, fields) {
    element.disabled = true;
    post(element.dataset.options, fields).then(function (options) {
      return kind === "enrol" ? creation(options) : assertion(options);
    }).then(function (answer) {
      var body = kind === "sign" ? Object.assign({credential: answer}, fields)
        : kind === "enrol" ? {credential: answer, device: deviceName()} : answer;
      return post(element.dataset.submit, body);
    }).then(function (done) { window.location.assign(done.redirect || "/"); })
      .catch(function (error) { element.disabled = false; fail(element, error); });
  }
  // Web Push: register the service worker, ask for the notification permission,
  // subscribe with the console's VAPID key and post the subscription.
  function subscribePush(button) {
    var box = button.closest("[data-push]");
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      box.querySelector("[data-push-unsupported]").hidden = false;
      return;
    }
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { throw new Error(permission); }
      return navigator.serviceWorker.register("/sw.js", {scope: "/"});
    }).then(function () { return navigator.serviceWorker.ready; }).then(function (registration) {
      return registration.pushManager.subscribe({userVisibleOnly: true,
        applicationServerKey: toBytes(box.dataset.vapidKey)});
    }).then(function (subscription) {
      return post("/phone/subscribe", {subscription: subscription.toJSON(), device: deviceName()});
    }).then(function (done) { window.location.assign(done.redirect || "/phone"); })
      .catch(function (error) { button.disabled = false; fail(button, error); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fillDevice); }
  else { fillDevice(); }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-passkey]");
    if (button) { event.preventDefault(); run(button, button.dataset.passkey, {}); }
    var push = event.target.closest("button[data-push-subscribe]");
    if (push) { event.preventDefault(); subscribePush(push); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-passkey-form]");
    if (!form) { return; }
    event.preventDefault();
    var fields = {};
    new FormData(form).forEach(function (value, key) {
      if (key in fields) { fields[key] = [].concat(fields[key], value); } else { fields[key] = value; }
    });
    run(form, "sign", fields);
  });
})();
