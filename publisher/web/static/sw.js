// The console's service worker: shows a Web Push notice (JSON: title, body, url, tag)
// and, on a tap, opens its link (the acknowledgement page) on this console only.
// It caches nothing: the console's pages are always read live.
"use strict";
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; }
  catch (error) { data = {body: event.data ? event.data.text() : ""}; }
  var options = {body: data.body || "", tag: data.tag || "notice", renotify: true, requireInteraction: true,
                 data: {url: data.url || "/"}};
  event.waitUntil(self.registration.showNotification(data.title || "Crisis console", options));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  var url = target.origin === self.location.origin ? target.href : self.location.origin + "/";
  event.waitUntil(self.clients.openWindow(url));
});
