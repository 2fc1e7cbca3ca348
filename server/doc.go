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
// Every reply text Redis defines lives in replies.go, in Redis's wording;
// storageError maps storage's sentinel errors to them.
//
// Caveats: handlers run while the store lock is held, so they must not block.
// redcon's Conn is not goroutine-safe: only the connection's own goroutine
// writes to it.
package server
