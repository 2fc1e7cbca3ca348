#!/usr/bin/env node
// sessdb compatibility suite, Node row (issue 3): express + express-session +
// connect-redis over the real, unpatched node-redis and ioredis clients.
//
// Usage: [SESSDB_PASSWORD=pw] node session_flow.js <host:port> [variant ...]
//
// SESSDB_PASSWORD makes the clients authenticate (AUTH, or HELLO 3 AUTH).
// With no variant every variant runs. For each one an express app is started
// on an ephemeral port and driven by a scripted HTTP client (Node's fetch):
//
//   1. POST /login            -> Set-Cookie, session stored as sess:<v>:<id>
//   2. GET /me with the cookie -> sees the session (store GET)
//   3. PTTL of the key matches the cookie maxAge (SET ... EX ttl)
//   4. an unmodified request refreshes the TTL (store touch -> EXPIRE)
//   5. "idle past the TTL" without sleeping: PEXPIRE key 1, then poll GET /me
//      (bounded, 3 s) until the request is treated as logged out
//   6. log in again, POST /logout -> req.session.destroy() -> DEL, key gone
//   7. store API: EXPIRE with ttl <= 0 deletes; length/ids/all/clear run
//      SCAN MATCH COUNT (several cursor rounds), MGET and DEL k1 k2 ...
//   8. RESP version actually negotiated (CLIENT INFO resp=N) is as expected
//
// Prints "PASS <variant> <versions>" per variant; exits non-zero with a
// "FAIL <variant>: <reason>" line on the first failure.
"use strict";

const http = require("node:http");
const express = require("express");
const session = require("express-session");

const MAX_AGE_MS = 600 * 1000; // cookie maxAge -> connect-redis TTL of 600 s
const POLL_LIMIT_MS = 3000;
const VARIANT_TIMEOUT_MS = 30000;

function pkgVersion(name) {
  const file = require("node:path").join(__dirname, "node_modules", name, "package.json");
  return JSON.parse(require("node:fs").readFileSync(file, "utf8")).version;
}

// connect-redis 9 (node-redis only) and 7 (node-redis or ioredis).
function connectRedis9() {
  return require("connect-redis").RedisStore;
}
function connectRedis7() {
  return require("connect-redis7").default;
}

function nodeRedis(pkg, resp) {
  return async (url) => {
    const { createClient } = require(pkg);
    const client = createClient({ url, RESP: resp });
    client.on("error", (err) => console.error(`${pkg} client error: ${err.message}`));
    await client.connect();
    return {
      client,
      raw: (args) => client.sendCommand(args.map(String)),
      close: () => client.quit(),
    };
  };
}

function ioRedis(pkg, protocol) {
  return async (url) => {
    const Redis = require(pkg);
    const opts = { lazyConnect: true, maxRetriesPerRequest: 1 };
    if (protocol !== undefined) opts.protocol = protocol;
    const client = new Redis(url, opts);
    client.on("error", (err) => console.error(`${pkg} client error: ${err.message}`));
    await client.connect(); // includes the INFO ready check (enableReadyCheck)
    return {
      client,
      raw: (args) => client.call(...args.map(String)),
      close: () => client.quit(),
    };
  };
}

const VARIANTS = {
  "node-redis5-resp2": {
    connect: nodeRedis("redis5", 2), store: connectRedis9, resp: 2,
    versions: () => `redis@${pkgVersion("redis5")} connect-redis@${pkgVersion("connect-redis")}`,
  },
  "node-redis5-resp3": {
    connect: nodeRedis("redis5", 3), store: connectRedis9, resp: 3,
    versions: () => `redis@${pkgVersion("redis5")} connect-redis@${pkgVersion("connect-redis")}`,
  },
  "node-redis6-resp3": { // node-redis 6 default: HELLO 3
    connect: nodeRedis("redis6", undefined), store: connectRedis9, resp: 3,
    versions: () => `redis@${pkgVersion("redis6")} connect-redis@${pkgVersion("connect-redis")}`,
  },
  "node-redis6-resp2": {
    connect: nodeRedis("redis6", 2), store: connectRedis9, resp: 2,
    versions: () => `redis@${pkgVersion("redis6")} connect-redis@${pkgVersion("connect-redis")}`,
  },
  "ioredis5": { // ioredis 5 default: RESP2 + INFO ready check
    connect: ioRedis("ioredis5", undefined), store: connectRedis7, resp: 2,
    versions: () => `ioredis@${pkgVersion("ioredis5")} connect-redis@${pkgVersion("connect-redis7")}`,
  },
  "ioredis6-resp3": { // ioredis 6 default: HELLO 3 (falls back to 2 silently, so resp is checked)
    connect: ioRedis("ioredis6", undefined), store: connectRedis7, resp: 3,
    versions: () => `ioredis@${pkgVersion("ioredis6")} connect-redis@${pkgVersion("connect-redis7")}`,
  },
  "ioredis6-resp2": {
    connect: ioRedis("ioredis6", 2), store: connectRedis7, resp: 2,
    versions: () => `ioredis@${pkgVersion("ioredis6")} connect-redis@${pkgVersion("connect-redis7")}`,
  },
};

class Failure extends Error {}
function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}

function startApp(store) {
  const app = express();
  app.use(express.json());
  app.use(
    session({
      store,
      secret: "sessdb-compat",
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: MAX_AGE_MS },
    })
  );
  app.post("/login", (req, res) => {
    req.session.user = req.body.user;
    res.json({ id: req.sessionID });
  });
  app.get("/me", (req, res) => {
    if (!req.session.user) return res.status(401).json({ loggedIn: false });
    res.json({ loggedIn: true, user: req.session.user, id: req.sessionID });
  });
  app.post("/logout", (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.json({ loggedOut: true });
    });
  });
  app.use((err, req, res, _next) => {
    res.status(500).json({ error: String(err && err.stack ? err.stack : err) });
  });
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

// A tiny scripted HTTP client holding one cookie jar entry.
class Browser {
  constructor(base) {
    this.base = base;
    this.cookie = null;
  }
  async req(method, path, body) {
    const headers = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0];
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    if (res.status >= 500) throw new Failure(`${method} ${path}: HTTP ${res.status}: ${text}`);
    return { status: res.status, json, setCookie };
  }
}

async function runVariant(name, addr) {
  const v = VARIANTS[name];
  const pw = process.env.SESSDB_PASSWORD;
  const conn = await v.connect(pw ? `redis://:${encodeURIComponent(pw)}@${addr}` : `redis://${addr}`);
  const { raw } = conn;
  const prefix = `sess:${name}:`;
  const RedisStore = v.store();
  const store = new RedisStore({ client: conn.client, prefix, scanCount: 2 });
  const server = await startApp(store);
  const base = `http://127.0.0.1:${server.address().port}`;
  const num = async (args) => Number(await raw(args));
  try {
    // Leftovers of an earlier run against the same server.
    const stale = await raw(["KEYS", prefix + "*"]);
    if (stale.length) await raw(["DEL", ...stale]);

    // Handshake: the protocol actually negotiated.
    const info = String(await raw(["CLIENT", "INFO"]));
    const m = /\bresp=(\d)/.exec(info);
    check(m && Number(m[1]) === v.resp, `expected resp=${v.resp}, CLIENT INFO says: ${info.trim()}`);

    // 1. login sets the cookie and stores the session.
    const b = new Browser(base);
    let r = await b.req("GET", "/me");
    check(r.status === 401, `anonymous /me: want 401, got ${r.status}`);
    check(!r.setCookie, `anonymous /me must not set a cookie (saveUninitialized false)`);
    r = await b.req("POST", "/login", { user: "alice" });
    check(r.status === 200 && r.json.id, `login failed: ${r.status} ${JSON.stringify(r.json)}`);
    check(b.cookie && b.cookie.startsWith("connect.sid="), `login set no connect.sid cookie: ${r.setCookie}`);
    const sid = r.json.id;
    const key = prefix + sid;

    // 2. the cookie is reused and the session is seen.
    r = await b.req("GET", "/me");
    check(r.status === 200 && r.json.user === "alice" && r.json.id === sid,
      `second request did not see the session: ${r.status} ${JSON.stringify(r.json)}`);

    // 3. the key exists with the cookie's TTL (SET k v EX 600).
    check((await num(["EXISTS", key])) === 1, `EXISTS ${key} != 1 after login`);
    let pttl = await num(["PTTL", key]);
    check(pttl > MAX_AGE_MS - 15000 && pttl <= MAX_AGE_MS, `PTTL ${key} = ${pttl}, want ~${MAX_AGE_MS}`);
    const ttl = await num(["TTL", key]);
    check(ttl > 585 && ttl <= 600, `TTL ${key} = ${ttl}, want ~600`);
    const stored = JSON.parse(String(await raw(["GET", key])));
    check(stored.user === "alice" && stored.cookie, `stored session JSON unexpected: ${JSON.stringify(stored)}`);

    // 4. an unmodified request refreshes the TTL through store.touch (EXPIRE).
    check((await num(["PEXPIRE", key, 100000])) === 1, `PEXPIRE ${key} 100000 != 1`);
    pttl = await num(["PTTL", key]);
    check(pttl <= 100000 && pttl > 90000, `PTTL after PEXPIRE 100000 = ${pttl}`);
    r = await b.req("GET", "/me");
    check(r.status === 200, `refresh request: ${r.status}`);
    pttl = await num(["PTTL", key]);
    check(pttl > MAX_AGE_MS - 15000, `touch did not refresh the TTL: PTTL ${pttl}`);

    // 5. idle past the TTL: make the key expire now and stay idle (no HTTP
    // request, which would touch/refresh it) until it is gone; the next
    // request with the same cookie is then logged out.
    check((await num(["PEXPIRE", key, 1])) === 1, `PEXPIRE ${key} 1 != 1`);
    const deadline = Date.now() + POLL_LIMIT_MS;
    while ((await num(["EXISTS", key])) !== 0) {
      check(Date.now() < deadline, `${key} still exists ${POLL_LIMIT_MS} ms after PEXPIRE 1 (PTTL ${await num(["PTTL", key])})`);
      await new Promise((res) => setTimeout(res, 5));
    }
    check((await num(["PTTL", key])) === -2, `PTTL of the expired key != -2`);
    r = await b.req("GET", "/me");
    check(r.status === 401 && r.json.loggedIn === false,
      `request after expiry not logged out: ${r.status} ${JSON.stringify(r.json)}`);
    check((await num(["EXISTS", key])) === 0, `${key} recreated by the logged-out request`);

    // 6. log in again, log out: destroy deletes the key.
    r = await b.req("POST", "/login", { user: "bob" });
    check(r.status === 200, `re-login failed: ${r.status}`);
    const sid2 = r.json.id;
    check(sid2 !== sid, `re-login reused the expired session id`);
    const key2 = prefix + sid2;
    check((await num(["EXISTS", key2])) === 1, `EXISTS ${key2} != 1 after re-login`);
    r = await b.req("GET", "/me");
    check(r.status === 200 && r.json.user === "bob", `re-login not seen: ${JSON.stringify(r.json)}`);
    r = await b.req("POST", "/logout");
    check(r.status === 200 && r.json.loggedOut, `logout failed: ${r.status} ${JSON.stringify(r.json)}`);
    check((await num(["EXISTS", key2])) === 0, `${key2} still exists after logout (destroy)`);
    r = await b.req("GET", "/me");
    check(r.status === 401, `after logout /me: want 401, got ${r.status}`);

    // 7. store API: touch with ttl <= 0 deletes (EXPIRE k -n), SCAN/MGET/DEL.
    const p = (fn) => new Promise((res, rej) => fn((err, val) => (err ? rej(err) : res(val))));
    const sess = (user, maxAge) => ({
      cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge), httpOnly: true, path: "/" },
      user,
    });
    await p((cb) => store.set("touchme", sess("t", MAX_AGE_MS), cb));
    check((await num(["EXISTS", prefix + "touchme"])) === 1, `store.set did not create ${prefix}touchme`);
    await p((cb) => store.touch("touchme", sess("t", -5000), cb));
    check((await num(["EXISTS", prefix + "touchme"])) === 0, `EXPIRE with a negative TTL did not delete ${prefix}touchme`);

    const ids = ["a1", "a2", "a3", "a4", "a5"];
    for (const id of ids) await p((cb) => store.set(id, sess(id, MAX_AGE_MS), cb));
    const len = await p((cb) => store.length(cb));
    check(len === ids.length, `store.length = ${len}, want ${ids.length}`);
    const got = (await p((cb) => store.ids(cb))).sort();
    check(JSON.stringify(got) === JSON.stringify(ids), `store.ids = ${JSON.stringify(got)}`);
    const all = await p((cb) => store.all(cb));
    check(all.length === ids.length && all.every((s) => s.user === s.id),
      `store.all = ${JSON.stringify(all)}`);
    await p((cb) => store.clear(cb));
    check((await p((cb) => store.length(cb))) === 0, `store.clear left keys behind`);
    const left = await raw(["KEYS", prefix + "*"]);
    check(Array.isArray(left) && left.length === 0, `keys left after clear: ${JSON.stringify(left)}`);
  } finally {
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
    await conn.close().catch(() => {});
  }
  return v.versions();
}

async function main() {
  const [addr, ...names] = process.argv.slice(2);
  if (!addr) {
    console.error(`usage: node session_flow.js <host:port> [${Object.keys(VARIANTS).join("|")} ...]`);
    process.exit(2);
  }
  const run = names.length ? names : Object.keys(VARIANTS);
  for (const name of run) {
    if (!VARIANTS[name]) {
      console.error(`FAIL ${name}: unknown variant (known: ${Object.keys(VARIANTS).join(", ")})`);
      process.exit(2);
    }
  }
  let failed = 0;
  for (const name of run) {
    try {
      let timer;
      const timeout = new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Failure(`timed out after ${VARIANT_TIMEOUT_MS} ms (handshake or command hung?)`)), VARIANT_TIMEOUT_MS);
      });
      const versions = await Promise.race([runVariant(name, addr), timeout]).finally(() => clearTimeout(timer));
      console.log(`PASS ${name} ${versions} express@${pkgVersion("express")} express-session@${pkgVersion("express-session")}`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}: ${err instanceof Failure ? err.message : (err && err.stack) || err}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`FAIL: ${(err && err.stack) || err}`);
  process.exit(1);
});
