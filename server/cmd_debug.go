package server

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/sessdb/sessdb/storage"
)

// The small introspection commands clients and tools probe: WAIT, LATENCY,
// SLOWLOG, MEMORY and a minimal DEBUG. sessdb has no replicas, keeps no
// latency samples and no slow log, so these answer as an idle Redis
// without replicas would, at once.

func init() {
	adm := []string{"admin", "noscript", "loading", "stale"}
	register(
		&command{name: "wait", arity: 3, flags: []string{"noscript"}, group: "generic", summary: "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed (sessdb: no replicas, answers 0 at once).", since: "3.0.0", run: cmdWait},
		&command{name: "latency", arity: -2, flags: []string{}, group: "server", summary: "A container for latency diagnostics commands.", since: "2.8.13", subs: map[string]*command{
			"latest":  {name: "latency|latest", arity: 2, flags: adm, group: "server", summary: "Returns the latest latency samples for all events.", since: "2.8.13", run: cmdLatencyLatest},
			"history": {name: "latency|history", arity: 3, flags: adm, group: "server", summary: "Returns timestamp-latency samples for an event.", since: "2.8.13", run: cmdLatencyLatest},
			"reset":   {name: "latency|reset", arity: -2, flags: adm, group: "server", summary: "Resets the latency data for one or more events.", since: "2.8.13", run: cmdLatencyReset},
			"graph":   {name: "latency|graph", arity: 3, flags: adm, group: "server", summary: "Returns a latency graph for an event.", since: "2.8.13", run: cmdLatencyGraph},
			"doctor":  {name: "latency|doctor", arity: 2, flags: adm, group: "server", summary: "Returns a human-readable latency analysis report.", since: "2.8.13", run: cmdLatencyDoctor},
			"help":    {name: "latency|help", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns helpful text about the different subcommands.", since: "2.8.13", run: cmdLatencyHelp},
		}},
		&command{name: "slowlog", arity: -2, flags: []string{}, group: "server", summary: "A container for slow log commands.", since: "2.2.12", subs: map[string]*command{
			"get":   {name: "slowlog|get", arity: -2, flags: adm, group: "server", summary: "Returns the slow log's entries.", since: "2.2.12", run: cmdSlowlogGet},
			"len":   {name: "slowlog|len", arity: 2, flags: adm, group: "server", summary: "Returns the number of entries in the slow log.", since: "2.2.12", run: cmdSlowlogLen},
			"reset": {name: "slowlog|reset", arity: 2, flags: adm, group: "server", summary: "Clears all entries from the slow log.", since: "2.2.12", run: cmdSlowlogReset},
			"help":  {name: "slowlog|help", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Show helpful text about the different subcommands", since: "6.2.0", run: cmdSlowlogHelp},
		}},
		&command{name: "memory", arity: -2, flags: []string{}, group: "server", summary: "A container for memory diagnostics commands.", since: "4.0.0", subs: map[string]*command{
			"usage": {name: "memory|usage", arity: -3, flags: []string{"readonly"}, access: accessRead, firstKey: 2, lastKey: 2, step: 1, group: "server", summary: "Estimates the memory usage of a key.", since: "4.0.0", run: cmdMemoryUsage},
			"help":  {name: "memory|help", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns helpful text about the different subcommands.", since: "4.0.0", run: cmdMemoryHelp},
		}},
		&command{name: "debug", arity: -2, flags: []string{"admin", "noscript", "loading", "stale", "protected"}, group: "server", summary: "A container for debugging commands (sessdb: SLEEP, OBJECT and HELP only).", since: "1.0.0", run: cmdDebug},
	)
}

// cmdWait answers at once: sessdb has no replicas, so 0 of them acknowledged.
// Redis blocks until the timeout (forever for 0) when asked for more
// replicas than it has; sessdb never blocks.
func cmdWait(c *Client, _ *storage.Tx, args [][]byte) {
	if _, ok := parseInt(args[1]); !ok {
		c.writeError(errNotInteger)
		return
	}
	timeout, ok := parseInt(args[2])
	if !ok {
		c.writeError(errTimeoutNotInt)
		return
	}
	if timeout < 0 {
		c.writeError(errTimeoutNegative)
		return
	}
	c.writeInt(0)
}

// cmdLatencyLatest serves LATEST and HISTORY: no samples are kept.
func cmdLatencyLatest(c *Client, _ *storage.Tx, _ [][]byte) { c.writeArray(0) }

func cmdLatencyReset(c *Client, _ *storage.Tx, _ [][]byte) { c.writeInt(0) }

func cmdLatencyGraph(c *Client, _ *storage.Tx, args [][]byte) {
	c.writeError(fmt.Sprintf(errLatencyNoSamples, args[2]))
}

func cmdLatencyDoctor(c *Client, _ *storage.Tx, _ [][]byte) { c.writeVerbatim(msgLatencyDoctor) }

func cmdLatencyHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR", "    Return a human readable latency analysis report.",
		"GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>", "    Return time-latency samples for the <event> class.",
		"LATEST", "    Return the latest latency samples for all events.",
		"RESET [<event> ...]", "    Reset latency data of one or more <event> classes.", "    (default: reset all data for all event classes)",
		"HELP", "    Prints this help.",
	})
}

func cmdSlowlogGet(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(fmt.Sprintf(errSubSyntax, args[1], "SLOWLOG"))
		return
	}
	if len(args) == 3 {
		if n, ok := parseInt(args[2]); !ok || n < -1 {
			c.writeError(errSlowlogCount)
			return
		}
	}
	c.writeArray(0)
}

func cmdSlowlogLen(c *Client, _ *storage.Tx, _ [][]byte) { c.writeInt(0) }

func cmdSlowlogReset(c *Client, _ *storage.Tx, _ [][]byte) { c.writeOK() }

func cmdSlowlogHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:", "    id, timestamp, time in microseconds, arguments array, client IP and port,", "    client name",
		"LEN", "    Return the length of the slowlog.",
		"RESET", "    Reset the slowlog.",
		"HELP", "    Prints this help.",
	})
}

// cmdMemoryUsage parses SAMPLES as Redis does (before looking the key up),
// then answers an estimate of what Redis would use for the key and value.
func cmdMemoryUsage(c *Client, tx *storage.Tx, args [][]byte) {
	samples := int64(5)
	for i := 3; i < len(args); i++ {
		if equalFold(args[i], "samples") && i+1 < len(args) {
			n, ok := parseInt(args[i+1])
			if !ok {
				c.writeError(errNotInteger)
				return
			}
			if n < 0 {
				c.writeError(errSyntax)
				return
			}
			if n == 0 {
				n = math.MaxInt64
			}
			samples = n
			i++
			continue
		}
		c.writeError(errSyntax)
		return
	}
	key := string(args[2])
	v := tx.Lookup(c.db, key)
	if v == nil {
		c.writeNull()
		return
	}
	c.writeInt(memoryUsage(key, v, samples))
}

func cmdMemoryHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"USAGE <key> [SAMPLES <count>]", "    Return memory in bytes used by <key> and its value. Nested values are", "    sampled up to <count> times (default: 5, 0 means sample all).",
		"HELP", "    Prints this help.",
	})
}

// jemallocSize rounds an allocation up to jemalloc's size class, as Redis's
// zmalloc_size reports it.
func jemallocSize(n int) int64 {
	switch {
	case n <= 8:
		return 8
	case n <= 128:
		return int64((n + 15) &^ 15)
	}
	step := 1 << (bits.Len(uint(n-1)) - 3) // four classes per doubling
	return int64((n + step - 1) &^ (step - 1))
}

// sdsSize is the allocation of an sds string of n bytes (header, data, NUL).
func sdsSize(n int) int64 {
	var hdr int
	switch {
	case n < 32:
		hdr = 1
	case n < 256:
		hdr = 3
	case n < 65536:
		hdr = 5
	default:
		hdr = 9
	}
	return jemallocSize(hdr + n + 1)
}

// memoryUsage estimates Redis's MEMORY USAGE: the key's sds, its dict entry,
// the robj and the value's encoding. Collections in a hashtable or skiplist
// are sampled and extrapolated, as Redis does.
func memoryUsage(key string, v *storage.Value, samples int64) int64 {
	const robj, dictEntry = 16, 24
	total := sdsSize(len(key)) + dictEntry + robj
	enc := encodingOf(v)
	switch enc {
	case "int":
		return total
	case "embstr":
		return total - robj + jemallocSize(robj+3+len(v.Bytes())+1)
	case "raw":
		return total + sdsSize(len(v.Bytes()))
	case "listpack", "intset":
		return total + jemallocSize(encodedLen(v, enc))
	}
	// hashtable / skiplist: dict header, bucket array, sampled elements.
	n := v.Len()
	total += 56 + int64(8<<bits.Len(uint(n)))
	var sum, seen int64
	each := func(size int64) bool {
		sum += size
		seen++
		return seen < samples
	}
	switch v.Kind() {
	case storage.KindHash:
		for f, val := range v.Hash() {
			if !each(dictEntry + sdsSize(len(f)) + sdsSize(len(val))) {
				break
			}
		}
	case storage.KindSet:
		for m := range v.SetMembers() {
			if !each(dictEntry + sdsSize(len(m))) {
				break
			}
		}
	case storage.KindZSet:
		total += 32 // the skiplist header
		for m := range v.ZScores() {
			// dict entry, member sds, skiplist node with an average 1.33 levels
			if !each(dictEntry + sdsSize(len(m)) + jemallocSize(32+16*4/3)) {
				break
			}
		}
	}
	if seen > 0 {
		total += sum * int64(n) / seen
	}
	return total
}

// lpEntryLen is the size of one listpack entry holding s: its encoding and
// data, and the back length.
func lpEntryLen(s string) int {
	var n int
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) <= 20 && strconv.FormatInt(i, 10) == s {
		switch {
		case i >= 0 && i <= 127:
			n = 1
		case i >= -4096 && i <= 4095:
			n = 2
		case i >= math.MinInt16 && i <= math.MaxInt16:
			n = 3
		case i >= -1<<23 && i < 1<<23:
			n = 4
		case i >= math.MinInt32 && i <= math.MaxInt32:
			n = 5
		default:
			n = 9
		}
	} else {
		switch {
		case len(s) < 64:
			n = 1 + len(s)
		case len(s) < 4096:
			n = 2 + len(s)
		default:
			n = 5 + len(s)
		}
	}
	switch {
	case n < 128:
		return n + 1
	case n < 16384:
		return n + 2
	case n < 1<<21:
		return n + 3
	case n < 1<<28:
		return n + 4
	}
	return n + 5
}

// encodedLen is the byte length of a listpack or intset value.
func encodedLen(v *storage.Value, enc string) int {
	if enc == "intset" {
		width := 2
		for m := range v.SetMembers() {
			i, _ := strconv.ParseInt(m, 10, 64)
			switch {
			case i < math.MinInt32 || i > math.MaxInt32:
				width = 8
			case (i < math.MinInt16 || i > math.MaxInt16) && width < 4:
				width = 4
			}
		}
		return 8 + width*v.Len()
	}
	n := 6 + 1 // header and end byte
	switch v.Kind() {
	case storage.KindHash:
		for f, val := range v.Hash() {
			n += lpEntryLen(f) + lpEntryLen(string(val))
		}
	case storage.KindSet:
		for m := range v.SetMembers() {
			n += lpEntryLen(m)
		}
	case storage.KindZSet:
		for m, s := range v.ZScores() {
			n += lpEntryLen(m) + lpEntryLen(formatFloat(s))
		}
	}
	return n
}

// rdbLenLen is the size of an RDB length prefix.
func rdbLenLen(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case n <= math.MaxUint32:
		return 5
	}
	return 9
}

// rdbStringLen is the size of a string in an RDB file, without compression.
func rdbStringLen(s []byte) int {
	if len(s) <= 11 {
		if i, err := strconv.ParseInt(string(s), 10, 64); err == nil && strconv.FormatInt(i, 10) == string(s) {
			switch {
			case i >= math.MinInt8 && i <= math.MaxInt8:
				return 2
			case i >= math.MinInt16 && i <= math.MaxInt16:
				return 3
			case i >= math.MinInt32 && i <= math.MaxInt32:
				return 5
			}
		}
	}
	return rdbLenLen(len(s)) + len(s)
}

// serializedLength is DEBUG OBJECT's serializedlength: the value's size in
// an RDB file. sessdb does not model RDB's LZF compression of long strings.
func serializedLength(v *storage.Value) int {
	enc := encodingOf(v)
	switch enc {
	case "int", "embstr", "raw":
		return rdbStringLen(v.Bytes())
	case "listpack", "intset":
		n := encodedLen(v, enc)
		return rdbLenLen(n) + n
	}
	n := rdbLenLen(v.Len())
	switch v.Kind() {
	case storage.KindHash:
		for f, val := range v.Hash() {
			n += rdbStringLen([]byte(f)) + rdbStringLen(val)
		}
	case storage.KindSet:
		for m := range v.SetMembers() {
			n += rdbStringLen([]byte(m))
		}
	case storage.KindZSet:
		for m := range v.ZScores() {
			n += rdbStringLen([]byte(m)) + 8
		}
	}
	return n
}

// debugSleepMax caps DEBUG SLEEP: Redis stalls the whole server for any
// time asked; sessdb sleeps only the calling connection, and not for long.
const debugSleepMax = time.Second

// cmdDebug serves the DEBUG subcommands clients and test suites probe.
// Redis 7 disables DEBUG unless enable-debug-command is set; sessdb always
// allows these harmless ones.
func cmdDebug(c *Client, tx *storage.Tx, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		c.writeHelp([]string{
			"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"OBJECT <key>", "    Show low level info about the `key` and associated value.",
			"SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed. (sessdb: at most 1 second.)",
			"HELP", "    Prints this help.",
		})
	case sub == "sleep" && len(args) == 3:
		// Redis reads the argument with strtod: a non-number sleeps 0.
		secs, err := strconv.ParseFloat(string(args[2]), 64)
		if err != nil || math.IsNaN(secs) {
			secs = 0
		}
		if secs < 0 || secs > debugSleepMax.Seconds() {
			c.writeError(errDebugSleep)
			return
		}
		time.Sleep(time.Duration(secs * float64(time.Second)))
		c.writeOK()
	case sub == "object" && len(args) == 3:
		// DEBUG has no key spec, so it runs without a transaction, except
		// inside EXEC, which hands it the one it holds.
		if tx != nil {
			debugObject(c, tx, args[2])
			return
		}
		_ = c.srv.db.View(func(tx *storage.Tx) error {
			debugObject(c, tx, args[2])
			return nil
		})
	default:
		c.writeError(fmt.Sprintf(errSubSyntax, args[1], "DEBUG"))
	}
}

func debugObject(c *Client, tx *storage.Tx, key []byte) {
	v := tx.Lookup(c.db, string(key))
	if v == nil {
		c.writeError(errNoSuchKey)
		return
	}
	c.writeSimple(fmt.Sprintf("Value at:%p refcount:%d encoding:%s serializedlength:%d lru:0 lru_seconds_idle:0",
		v, c.refcountOf(v), encodingOf(v), serializedLength(v)))
}
