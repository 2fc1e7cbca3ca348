// Package admin is sessdb's sessions admin page: an http.Handler meant to be
// mounted at /admin/ on the server's HTTP port (directive admin-enable).
//
// New(Options) returns the handler. An operator signs in with HTTP Basic
// credentials checked by Options.Authenticate (the server plugs in its
// requirepass/ACL check), searches a user, sees that user's sessions
// (device, IP, created, last seen, idle and absolute deadlines), revokes one
// or all of them, and watches live counters (live sessions, users,
// commands/s, refreshed by a small script that polls counters.json).
//
// The pages are server-rendered with html/template; there is no front-end
// build step. Every response carries a strict Content-Security-Policy (no
// inline script or style, same-origin only, no framing). Every POST needs a
// CSRF token derived from a per-process random key and the signed-in
// operator, and is refused when fetch metadata or Origin say it is
// cross-site. An address that fails to sign in 10 times in a minute is
// refused (429) for the rest of that minute.
//
// Caveat: HTTP Basic sends the credentials with every request. Serve the
// HTTP port over TLS, or only on a loopback or otherwise trusted network.
package admin
