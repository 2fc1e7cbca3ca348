// Package config holds sessdb's configuration and parses it exactly the way
// redis-server parses redis.conf and its command line.
//
// # Command line and file syntax
//
// sessdb is started as
//
//	sessdb [path/to/sessdb.conf] [--directive value [value ...] ...]
//
// and [Load] receives os.Args[1:]. The first argument, if it does not start
// with '-', is the configuration file. Every following "--name" starts a new
// directive and the arguments after it, up to the next "--name", are its
// values. Like redis-server, the command-line options are rendered as extra
// configuration lines (values quoted with Redis's sdscatrepr) and appended to
// the file's text after a newline, so they override the file and error
// messages quote the synthesized line and its line number. The redis-server
// 7.0 special cases are kept: "--save" followed by another "--name" (or at
// the end) means save "", and after a bare "--name" the next argument is its
// value even when it starts with "--" (redis-server --requirepass --x sets the
// password "--x"). Reading the configuration from stdin ("-") is not
// supported.
//
// The file uses redis.conf syntax: one "directive arg [arg ...]" per line,
// lines trimmed of " \t\r\n", blank lines and lines starting with '#'
// ignored, arguments split by [SplitArgs] (Redis's sdssplitargs: "double
// quotes" with \n \r \t \b \a \xHH and backslash escapes, 'single quotes'
// with \' only). Directive names are case-insensitive. A directive may appear
// several times; the last one wins, except "save" whose lines accumulate as
// in Redis. The "include", "rename-command", "user" and "loadmodule"
// directives of redis.conf are not supported and are reported as bad
// directives. Errors are returned as a [*FileError] whose message mirrors
// redis-server's "*** FATAL CONFIG FILE ERROR ***" report.
//
// # Directives
//
// A single table (directives.go) describes every directive: canonical name,
// aliases (for example hash-max-ziplist-entries for hash-max-listpack-entries
// or lua-time-limit for busy-reply-threshold), kind (integer, memory size,
// yes/no boolean, enum, string, or multi-argument list), default, bounds and
// whether CONFIG SET may change it. The same table drives [Load], [Config.Get]
// and [Config.Set], and value errors use Redis 7's wording ("argument
// couldn't be parsed into an integer", "argument must be a memory value",
// "argument must be 'yes' or 'no'", "argument(s) must be one of the
// following: ...", "argument must be between N and M inclusive").
//
// Besides sessdb's own directives, Redis's tuning parameters that test
// harnesses and client libraries set (hash-max-listpack-entries,
// lazyfree-lazy-*, stream-node-max-bytes, ...) are accepted, validated,
// stored and returned by CONFIG GET; they have no effect on sessdb.
//
// # Run-time access
//
// [Config] is safe for concurrent use: typed getters (Port, Timeout,
// RequirePass, ...) take a read lock, and [Config.Set] / [Config.SetMany]
// implement CONFIG SET (all-or-nothing, errors carry Redis's exact text, see
// [SetError]). [Config.OnChange] registers callbacks invoked, outside the
// lock, with the canonical name of every directive a successful CONFIG SET
// assigned (even if the value did not change).
//
// # Caveats
//
//   - sessdb always fsyncs and always keeps its append-only log:
//     "appendfsync no" and "appendonly no" are rejected with an explanatory
//     error, and so is "daemonize yes".
//   - port, bind, dir, dbfilename, databases, daemonize, tls-port, http-port
//     and logfile are immutable at run time, as are appendfilename,
//     appenddirname, rdbchecksum, enable-debug-command and io-threads (which
//     Redis also refuses to change).
//   - Memory sizes are limited to int64: a larger size fails the bounds
//     check ("argument must be between 0 and 9223372036854775807
//     inclusive"), where Redis 7.0 wraps around or, for maxmemory, accepts
//     it. Redis's memtoull quirks are kept otherwise ("" and a bare unit such
//     as "k" mean 0, leading zeros are allowed, "b" is an accepted unit).
//   - dir and dbfilename may not be empty (Redis accepts an empty
//     dbfilename); dbfilename, appendfilename and appenddirname may not
//     contain '/' or '\' (as in Redis).
//   - As in Redis, a single argument given to bind or save that does not
//     split (unbalanced quotes) counts as no argument at all.
//   - Differences from redis-server 7.0 defaults and names:
//     hash-max-listpack-entries defaults to 128 (Redis 7.2; 7.0 says 512).
//     set-max-listpack-*, close-on-oom, http-port and the session-*
//     directives do not exist in Redis 7.0.
//   - hz is clamped to 1..500 like Redis, and notify-keyspace-events is stored
//     in Redis's normalized form ("KEA" reads back as "AKE").
//   - The package never touches the file system apart from reading the
//     configuration file: dir is not validated or entered here.
package config
