// Package web puts sessdb sessions behind net/http: middleware that reads the
// session cookie, validates it and puts the session in the request context,
// plus the helpers a login flow needs.
//
// The few types:
//
//   - Store is the boundary to sessdb. Embedded(db.Sessions()) uses the
//     embedded API in the same process; RESP(redisClient) sends SESS.*
//     commands to a sessdb server. Both behave the same (one test suite runs
//     against both).
//   - Manager holds a Store and the cookie settings. Manager.Middleware
//     loads the session (sliding its idle deadline), Manager.Require sends
//     requests without one to the login page, and Current(r) returns it.
//     Manager.Login, Logout, LogoutEverywhere, RevokeDevice, Sessions and
//     Rotate (on privilege change) do the rest.
//   - Manager.CSRF is the CSRF middleware: Sec-Fetch-Site/Origin checks and a
//     double-submit token (CSRFToken(r) goes in every form).
//
// The cookie defaults are the safe ones: the __Host- prefix, HttpOnly, Secure,
// SameSite=Lax, Path=/ and no Domain. Its lifetime ends at the session's
// deadline (the earlier of the idle and absolute deadlines) and is renewed as
// the idle deadline slides. Login always issues a new token and revokes the
// one the request carried.
//
// Caveats: Secure cookies need HTTPS, except on http://localhost, which
// browsers treat as a secure context (Options.Insecure exists for other
// development hosts). Behind a reverse proxy, set Options.ClientIP, since the
// default records r.RemoteAddr. The store is asked on every request that
// carries a cookie: that is what makes a revocation take effect on the next
// click.
package web
