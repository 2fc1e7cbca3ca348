// Package httpapi is sessdb's HTTP face: the JWK Set, OAuth 2.0 token
// introspection (RFC 7662) and revocation (RFC 7009), Prometheus metrics and
// health checks, served by the same process as the Redis protocol.
//
// Its one type is Server, built from Options by New. Routes:
//
//	GET  /.well-known/jwks.json  the public JWK Set, with Cache-Control and ETag
//	POST /oauth2/introspect      RFC 7662, client authentication required
//	POST /oauth2/revoke          RFC 7009, client authentication required
//	GET  /metrics                Options.Metrics (Prometheus exposition)
//	GET  /healthz                200 while the process serves
//	GET  /readyz                 200 while storage is open and committing
//	     /admin/                 Options.Admin, when set (paths unchanged)
//
// Clients authenticate with HTTP Basic (client id and secret, form-encoded
// as RFC 6749 §2.3.1 says, or raw as curl -u sends them) or with
// "Authorization: Bearer <secret>". Only
// SHA-256 hashes of the secrets are kept, and they are compared in constant
// time. A failure answers 401 with a WWW-Authenticate challenge and
// {"error":"invalid_client"}.
//
// Caveats: the server is meant for loopback or a private network; put TLS
// in front of it (a reverse proxy) before exposing it. Every request body is
// capped (Options.MaxBodyBytes), requests in flight are capped
// (Options.MaxConcurrent: further ones get 503), and reads, writes and idle
// connections time out. Any authenticated client may introspect or revoke
// any token: clients are trusted services, not end users.
package httpapi
