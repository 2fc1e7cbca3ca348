package server

import (
	_ "embed"
	"encoding/json"
	"sort"
)

// commandDocsJSON holds the "arguments" of Redis 7.0's COMMAND DOCS for every
// command Redis has, keyed by command name ("config|get" for subcommands).
// redis-cli draws its interactive argument hints from them. Regenerate with
// redis-server running on port P:
//
//	redis-cli -p P --json COMMAND DOCS | python3 -c 'import json,sys
//	d=json.load(sys.stdin); o={}
//	def w(n,x):
//	    if "arguments" in x: o[n]=x["arguments"]
//	    for s,sx in (x.get("subcommands") or {}).items(): w(s,sx)
//	for n,x in d.items(): w(n,x)
//	json.dump(o,sys.stdout,separators=(",",":"),sort_keys=True)' > server/commanddocs.json
//
//go:embed commanddocs.json
var commandDocsJSON []byte

// commandArguments maps a command name to its argument docs.
var commandArguments = func() map[string][]any {
	var m map[string][]any
	if err := json.Unmarshal(commandDocsJSON, &m); err != nil {
		panic("server: commanddocs.json: " + err.Error())
	}
	return m
}()

// argumentKeyOrder is the order Redis writes an argument's fields in.
var argumentKeyOrder = map[string]int{
	"name": 0, "type": 1, "display_text": 2, "key_spec_index": 3, "token": 4, "summary": 5,
	"since": 6, "deprecated_since": 7, "flags": 8, "arguments": 9,
}

// writeDocValue writes one decoded JSON value of the argument docs: objects
// as maps (fields in Redis's order), "flags" as a set, numbers as integers.
func (c *Client) writeDocValue(key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			oi, iok := argumentKeyOrder[keys[i]]
			oj, jok := argumentKeyOrder[keys[j]]
			if iok != jok {
				return iok
			}
			if oi != oj {
				return oi < oj
			}
			return keys[i] < keys[j]
		})
		c.writeMap(len(keys))
		for _, k := range keys {
			c.writeBulkString(k)
			c.writeDocValue(k, x[k])
		}
	case []any:
		if key == "flags" {
			c.writeSet(len(x))
			for _, f := range x {
				s, _ := f.(string)
				c.writeSimple(s)
			}
			return
		}
		c.writeArray(len(x))
		for _, e := range x {
			c.writeDocValue("", e)
		}
	case float64:
		c.writeInt(int64(x))
	case string:
		c.writeBulkString(x)
	case bool:
		c.writeBool01(x)
	default:
		c.writeNull()
	}
}
