// Package server serves sessdb over the Redis protocol (RESP2 and RESP3).
//
// Types: Server (listeners, clients, the command table) and Client (one
// connection's state: database, protocol version, authentication, MULTI
// queue, WATCHed keys).
//
// A connection's bytes first pass the protocol guard (guard.go), which
// enforces proto-max-bulk-len, the multibulk and inline limits and the
// query buffer limit as Redis does, then redcon parses them. dispatch looks
// the command up in the one command table (command.go; each family
// registers its commands from its own cmd_*.go file), checks arity,
// authentication and MULTI, and runs the handler under the storage lock its
// access needs: accessRead in a View, accessWrite in an Update whose commit
// the reply waits for. A pipelined batch waits once, after its last command,
// before redcon flushes the replies.
//
// Security (acl.go, cmd_acl.go, auth.go, tls.go): every accepted
// connection is a secureConn under the guard, which runs the TLS handshake
// (tls-port) in the connection's own goroutine and delivers protected
// mode's -DENIED. ACL users follow Redis 7.0 (rules, categories from Redis's
// own table plus @session, key and channel patterns, SHA-256 password
// hashes, aclfile); they are immutable once published, so the per-command
// check (checkACL, after NOAUTH, again at EXEC and inside scripts) reads
// them without a lock. Failed AUTH attempts are throttled per client IP.
//
// JWTs (cmd_jwt.go): SESS.JWT, SESS.VERIFY, SESS.JWKS, SESS.NOTBEFORE and
// SESS.KEYS run on the sessdb package's JWT, whose keys New opens from the
// jwt-* directives (never inside a command's transaction). Metrics
// (metrics.go): a Prometheus registry per Server, served by package httpapi.
//
// Every reply text Redis defines lives in replies.go, in Redis's wording;
// storageError maps storage's sentinel errors to them.
//
// Pub/Sub (pubsub.go, cmd_pubsub.go): a publisher never writes to a
// subscriber's socket. It appends the message to the subscriber's outbound
// queue, which a small writer goroutine per subscribed connection drains;
// once subscribed, a connection's replies take the same queue, so replies
// and messages keep Redis's order. A queue that reaches the pubsub class of
// client-output-buffer-limit (hard 32 MB, or soft 8 MB for over 60 s, by
// default) disconnects its subscriber. Keyspace
// notifications (notify.go) are queued while the transaction runs, in
// execution order, and published once the store lock is released.
// Server.Publish is the same path for sessdb's own events (__sessions__).
//
// Caveats: handlers run while the store lock is held, so they must not block.
// redcon's Conn is not goroutine-safe: only the connection's own goroutine
// writes to it (a subscriber's writer goroutine writes to the net.Conn
// underneath, and only bytes the connection's goroutine handed over). A
// keyspace event can reach another connection up to one group commit before
// the change it reports is durable; Redis with appendfsync always sends it
// after the fsync.
package server
