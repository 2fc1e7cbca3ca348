// Package sessdb is the embedded API of sessdb, a durable, Redis-compatible
// session store. A Go program opens a database file with Open and uses it
// without any network; the RESP server in package server is one client of
// this API.
//
// Types: DB (an open database), Options, Tx (an alias of storage.Tx, the
// typed operations inside Update and View), Fsync (the durability policy),
// and Sessions (db.Sessions(): revocable server-side sessions with a per-user
// index, kept in an internal database that SELECT and FLUSHALL never reach).
//
// JWTs: OpenJWT(db, JWTOptions) returns a JWT, which signs short-lived JWTs
// for live sessions (Issue), verifies them against the live session
// (Verify), serves the JWK Set and rotates the signing keys. The keys live
// in the sessions' internal database (sealed with AES-256-GCM under an
// argon2id key when a passphrase is set); SESS.REVOKEUSER records a per-user
// "not before" (NotBefore) that local verifiers can look up.
//
// Durability: with FsyncAlways (the default) Update returns only after its
// changes are fsynced; with FsyncEverySec it returns at once and the change
// is committed, still with fsync, within about a second.
//
// Expiry: a background reaper deletes keys whose deadline has passed, at
// most ReapBatch under one hold of the lock, yielding in between and resting
// between bursts when many keys expire together; every read checks the
// deadline itself, so an expired key is never visible.
package sessdb
