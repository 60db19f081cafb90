// Preloaded (node --require) into every Node client the tests run outside
// the private network namespace: any TCP connection to a host other than
// loopback fails at once, so a client that strays to a real Microsoft
// host (instance discovery, telemetry, update checks) cannot reach the
// internet and the test sees the error instead.
"use strict";
const net = require("node:net");

const allowed = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function target(args) {
  let a = args[0];
  if (Array.isArray(a)) a = a[0]; // net.connect passes normalized [options, cb]
  if (a && typeof a === "object") return a.path ? null : (a.host || "localhost");
  if (typeof a === "string" && isNaN(Number(a))) return null; // IPC path
  return typeof args[1] === "string" ? args[1] : "localhost";
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const host = target(args);
  if (host !== null && !allowed.has(String(host).toLowerCase())) {
    const err = new Error(`loopback-guard: refusing to connect to ${host} (only loopback is allowed in client tests)`);
    err.code = "ELOOPBACKONLY";
    // Fail the way a refused connection does: asynchronously, on the socket.
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};
