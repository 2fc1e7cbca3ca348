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
// Durability: with FsyncAlways (the default) Update returns only after its
// changes are fsynced; with FsyncEverySec it returns at once and the change
// is committed, still with fsync, within about a second.
//
// Expiry: a background reaper deletes keys whose deadline has passed, at
// most ReapBatch per pass; every read checks the deadline itself, so an
// expired key is never visible.
package sessdb
