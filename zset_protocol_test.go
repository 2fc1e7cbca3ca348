package sessdb_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The sorted-set protocol test sends the same scripts to an in-process
// sessdb and, when it is installed, to a real redis-server, over RESP2 and
// RESP3, and compares every reply byte for byte with the expectation in the
// table, so the table is proven to be Redis's own answers. Its helpers are
// prefixed zset so that the file stands on its own.

// zsetBigArgs is a ZADD of n members "m000"… with scores 0, 0.5, 1, ….
func zsetBigArgs(key string, n int) []string {
	args := []string{"ZADD", key}
	for i := 0; i < n; i++ {
		args = append(args, strconv.FormatFloat(float64(i)/2, 'f', -1, 64), fmt.Sprintf("m%03d", i))
	}
	return args
}

// zsetCases were recorded from redis-server 7.0.15; the "redis" half of
// TestZSetProtocol_Replies re-proves them on every run where it is installed.
var zsetCases = []harnessCase{
	{name: "add, score, card", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c", want: ":3\r\n"},
		{cmd: "ZADD z 1 a", want: ":0\r\n"},
		{cmd: "ZADD z CH 5 a 2 b", want: ":1\r\n"},
		{cmd: "ZCARD z", want: ":3\r\n"},
		{cmd: "ZSCORE z a", want: "$1\r\n5\r\n", want3: ",5\r\n"},
		{cmd: "ZSCORE z nope", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZSCORE nokey a", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZCARD nokey", want: ":0\r\n"},
		{cmd: "TYPE z", want: "+zset\r\n"},
		{cmd: "ZADD z 1 a 1 a 2 a", want: ":0\r\n"},
		{cmd: "ZSCORE z a", want: "$1\r\n2\r\n", want3: ",2\r\n"},
		{cmd: "ZADD z CH 3 a 3 a", want: ":1\r\n"},
		{cmd: "ZADD z nx 9 a 4 d ch", want: "-ERR syntax error\r\n"},
		{cmd: "ZSCORE z a", want: "$1\r\n3\r\n", want3: ",3\r\n"},
		{cmd: "ZSCORE z d", want: "$-1\r\n", want3: "_\r\n"},
	}},
	{name: "add options", steps: []harnessStep{
		{cmd: "ZADD z 5 a 2 b", want: ":2\r\n"},
		{cmd: "ZADD z NX 10 a 1 d", want: ":1\r\n"},
		{cmd: "ZADD z XX 10 a 1 e", want: ":0\r\n"},
		{cmd: "ZSCORE z a", want: "$2\r\n10\r\n", want3: ",10\r\n"},
		{cmd: "ZSCORE z e", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZADD z GT CH 4 a", want: ":0\r\n"},
		{cmd: "ZADD z GT CH 11 a", want: ":1\r\n"},
		{cmd: "ZADD z LT CH 12 a", want: ":0\r\n"},
		{cmd: "ZADD z LT 1 a", want: ":0\r\n"},
		{cmd: "ZSCORE z a", want: "$1\r\n1\r\n", want3: ",1\r\n"},
		{cmd: "ZADD z XX GT CH 100 b", want: ":1\r\n"},
		{cmd: "ZADD z GT 1 new", want: ":1\r\n"},
		{cmd: "ZADD z LT CH 0 new2", want: ":1\r\n"},
		{cmd: "ZADD z XX CH 1 nope", want: ":0\r\n"},
		{cmd: "ZADD nokey XX 1 a", want: ":0\r\n"},
		{cmd: "EXISTS nokey", want: ":0\r\n"},
		{cmd: "ZADD z Xx Ch Gt 200 b", want: ":1\r\n"},
		{cmd: "ZSCORE z b", want: "$3\r\n200\r\n", want3: ",200\r\n"},
		{cmd: "ZCARD z", want: ":5\r\n"},
	}},
	{name: "add errors", steps: []harnessStep{
		{cmd: "ZADD z NX XX 1 a", want: "-ERR XX and NX options at the same time are not compatible\r\n"},
		{cmd: "ZADD z GT LT 1 a", want: "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
		{cmd: "ZADD z NX GT 1 a", want: "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
		{cmd: "ZADD z LT NX 1 a", want: "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
		{cmd: "ZADD z XX NX GT 1 a", want: "-ERR XX and NX options at the same time are not compatible\r\n"},
		{cmd: "ZADD z INCR 1 a 2 b", want: "-ERR INCR option supports a single increment-element pair\r\n"},
		{cmd: "ZADD z 1 a 2", want: "-ERR syntax error\r\n"},
		{cmd: "ZADD z NX CH", want: "-ERR syntax error\r\n"},
		{cmd: "ZADD z 1", want: "-ERR wrong number of arguments for 'zadd' command\r\n"},
		{cmd: "ZADD z abc a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z 1 a x b", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z nan a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z 1e400 a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z -1e400 a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z 1e-400 a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z 1e-310 a", want: ":1\r\n"},
		{args: []string{"ZADD", "z", " 1", "a"}, want: "-ERR value is not a valid float\r\n"},
		{args: []string{"ZADD", "z", "1 ", "a"}, want: "-ERR value is not a valid float\r\n"},
		{args: []string{"ZADD", "z", "", "a"}, want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z 1_0 a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD z 0x10 a", want: ":0\r\n"},
		{cmd: "ZADD z 0x1p-2 b", want: ":1\r\n"},
		{cmd: "ZADD z +inf c", want: ":1\r\n"},
		{cmd: "ZADD z -Infinity d", want: ":1\r\n"},
		{cmd: "ZADD z .5 e", want: ":1\r\n"},
		{cmd: "ZADD z 5. f", want: ":1\r\n"},
		{cmd: "ZADD z 1e3 g", want: ":1\r\n"},
		{cmd: "ZRANGE z 0 -1 WITHSCORES", want: "*14\r\n$1\r\nd\r\n$4\r\n-inf\r\n$1\r\nb\r\n$4\r\n0.25\r\n$1\r\ne\r\n$3\r\n0.5\r\n$1\r\nf\r\n$1\r\n5\r\n$1\r\na\r\n$2\r\n16\r\n$1\r\ng\r\n$4\r\n1000\r\n$1\r\nc\r\n$3\r\ninf\r\n", want3: "*7\r\n*2\r\n$1\r\nd\r\n,-inf\r\n*2\r\n$1\r\nb\r\n,0.25\r\n*2\r\n$1\r\ne\r\n,0.5\r\n*2\r\n$1\r\nf\r\n,5\r\n*2\r\n$1\r\na\r\n,16\r\n*2\r\n$1\r\ng\r\n,1000\r\n*2\r\n$1\r\nc\r\n,inf\r\n"},
		{cmd: "ZADD z INCR -inf c", want: "-ERR resulting score is not a number (NaN)\r\n"},
		{cmd: "ZSCORE z c", want: "$3\r\ninf\r\n", want3: ",inf\r\n"},
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "ZADD s 1 a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZADD s abc a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZADD s XX NX 1 a", want: "-ERR XX and NX options at the same time are not compatible\r\n"},
		{cmd: "EXISTS z2", want: ":0\r\n"},
	}},
	{name: "incr", steps: []harnessStep{
		{cmd: "ZINCRBY z 2 a", want: "$1\r\n2\r\n", want3: ",2\r\n"},
		{cmd: "ZINCRBY z 1.5 a", want: "$3\r\n3.5\r\n", want3: ",3.5\r\n"},
		{cmd: "ZINCRBY z abc a", want: "-ERR value is not a valid float\r\n"},
		{cmd: "ZINCRBY z xx a", want: "-ERR syntax error\r\n"},
		{cmd: "ZINCRBY z incr a", want: "-ERR syntax error\r\n"},
		{cmd: "ZADD z INCR 5 a", want: "$3\r\n8.5\r\n", want3: ",8.5\r\n"},
		{cmd: "ZADD z INCR NX 1 a", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZADD z INCR XX 1 nope", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZADD z INCR GT -1 a", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZADD z INCR LT -1 a", want: "$3\r\n7.5\r\n", want3: ",7.5\r\n"},
		{cmd: "ZADD z INCR CH 1 b", want: "$1\r\n1\r\n", want3: ",1\r\n"},
		{cmd: "ZINCRBY z inf a", want: "$3\r\ninf\r\n", want3: ",inf\r\n"},
		{cmd: "ZINCRBY z -inf a", want: "-ERR resulting score is not a number (NaN)\r\n"},
		{cmd: "ZSCORE z a", want: "$3\r\ninf\r\n", want3: ",inf\r\n"},
		{cmd: "ZINCRBY z -1 b", want: "$1\r\n0\r\n", want3: ",0\r\n"},
		{cmd: "ZINCRBY z 0 b", want: "$1\r\n0\r\n", want3: ",0\r\n"},
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "ZINCRBY s 1 a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZADD nokey INCR XX 1 a", want: "$-1\r\n", want3: "_\r\n"},
	}},
	{name: "score formatting", steps: []harnessStep{
		{cmd: "ZADD z 1 a 1.5 b -2.5 c -3 d 100 e 1e15 f -0 g inf h -inf i", want: ":9\r\n"},
		{cmd: "ZRANGE z 0 -1 WITHSCORES", want: "*18\r\n$1\r\ni\r\n$4\r\n-inf\r\n$1\r\nd\r\n$2\r\n-3\r\n$1\r\nc\r\n$4\r\n-2.5\r\n$1\r\ng\r\n$1\r\n0\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n1.5\r\n$1\r\ne\r\n$3\r\n100\r\n$1\r\nf\r\n$16\r\n1000000000000000\r\n$1\r\nh\r\n$3\r\ninf\r\n", want3: "*9\r\n*2\r\n$1\r\ni\r\n,-inf\r\n*2\r\n$1\r\nd\r\n,-3\r\n*2\r\n$1\r\nc\r\n,-2.5\r\n*2\r\n$1\r\ng\r\n,0\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,1.5\r\n*2\r\n$1\r\ne\r\n,100\r\n*2\r\n$1\r\nf\r\n,1000000000000000\r\n*2\r\n$1\r\nh\r\n,inf\r\n"},
		{cmd: "ZSCORE z g", want: "$1\r\n0\r\n", want3: ",0\r\n"},
		{cmd: "ZADD z 0 g", want: ":0\r\n"},
		{cmd: "ZSCORE z g", want: "$1\r\n0\r\n", want3: ",0\r\n"},
		{cmd: "ZADD z CH 0 g", want: ":0\r\n"},
		{cmd: "ZMSCORE z a b h i nope", want: "*5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$3\r\ninf\r\n$4\r\n-inf\r\n$-1\r\n", want3: "*5\r\n,1\r\n,1.5\r\n,inf\r\n,-inf\r\n_\r\n"},
		{cmd: "ZPOPMAX z", want: "*2\r\n$1\r\nh\r\n$3\r\ninf\r\n", want3: "*2\r\n$1\r\nh\r\n,inf\r\n"},
		{cmd: "ZPOPMIN z 2", want: "*4\r\n$1\r\ni\r\n$4\r\n-inf\r\n$1\r\nd\r\n$2\r\n-3\r\n", want3: "*2\r\n*2\r\n$1\r\ni\r\n,-inf\r\n*2\r\n$1\r\nd\r\n,-3\r\n"},
		{cmd: "ZRANK z g", want: ":1\r\n"},
		{cmd: "ZSCAN z 0", want: "*2\r\n$1\r\n0\r\n*12\r\n$1\r\nc\r\n$4\r\n-2.5\r\n$1\r\ng\r\n$1\r\n0\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n1.5\r\n$1\r\ne\r\n$3\r\n100\r\n$1\r\nf\r\n$16\r\n1000000000000000\r\n"},
	}},
	{name: "score formatting with 17 digits", redisBelow: "7.2", steps: []harnessStep{
		{cmd: "ZADD z 0.1 a 1e20 b 1e-7 c 123456789012345678 d 3.0000000000000004 e 1e16 f 1e17 g 0.3 h 1.7976931348623157e308 i 5e-324 j", want: ":10\r\n"},
		{cmd: "ZRANGE z 0 -1 WITHSCORES", want: "*20\r\n$1\r\nj\r\n$23\r\n4.9406564584124654e-324\r\n$1\r\nc\r\n$22\r\n9.9999999999999995e-08\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nh\r\n$19\r\n0.29999999999999999\r\n$1\r\ne\r\n$18\r\n3.0000000000000004\r\n$1\r\nf\r\n$17\r\n10000000000000000\r\n$1\r\ng\r\n$5\r\n1e+17\r\n$1\r\nd\r\n$22\r\n1.2345678901234568e+17\r\n$1\r\nb\r\n$5\r\n1e+20\r\n$1\r\ni\r\n$23\r\n1.7976931348623157e+308\r\n", want3: "*10\r\n*2\r\n$1\r\nj\r\n,4.9406564584124654e-324\r\n*2\r\n$1\r\nc\r\n,9.9999999999999995e-08\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n*2\r\n$1\r\nh\r\n,0.29999999999999999\r\n*2\r\n$1\r\ne\r\n,3.0000000000000004\r\n*2\r\n$1\r\nf\r\n,10000000000000000\r\n*2\r\n$1\r\ng\r\n,1e+17\r\n*2\r\n$1\r\nd\r\n,1.2345678901234568e+17\r\n*2\r\n$1\r\nb\r\n,1e+20\r\n*2\r\n$1\r\ni\r\n,1.7976931348623157e+308\r\n"},
		{cmd: "ZSCORE z a", want: "$19\r\n0.10000000000000001\r\n", want3: ",0.10000000000000001\r\n"},
		{cmd: "ZINCRBY z 0.2 a", want: "$19\r\n0.30000000000000004\r\n", want3: ",0.30000000000000004\r\n"},
		{cmd: "ZSCAN z 0", want: "*2\r\n$1\r\n0\r\n*20\r\n$1\r\nj\r\n$23\r\n4.9406564584124654e-324\r\n$1\r\nc\r\n$22\r\n9.9999999999999995e-08\r\n$1\r\nh\r\n$19\r\n0.29999999999999999\r\n$1\r\na\r\n$19\r\n0.30000000000000004\r\n$1\r\ne\r\n$18\r\n3.0000000000000004\r\n$1\r\nf\r\n$17\r\n10000000000000000\r\n$1\r\ng\r\n$18\r\n100000000000000000\r\n$1\r\nd\r\n$18\r\n123456789012345680\r\n$1\r\nb\r\n$5\r\n1e+20\r\n$1\r\ni\r\n$23\r\n1.7976931348623157e+308\r\n"},
	}},
	{name: "range by rank", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c 4 d 5 e", want: ":5\r\n"},
		{cmd: "ZRANGE z 0 -1", want: "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGE z 1 2", want: "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGE z -2 -1 WITHSCORES", want: "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n", want3: "*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
		{cmd: "ZRANGE z 5 10", want: "*0\r\n"},
		{cmd: "ZRANGE z 2 1", want: "*0\r\n"},
		{cmd: "ZRANGE z -100 100", want: "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGE z 0 0 REV WITHSCORES", want: "*2\r\n$1\r\ne\r\n$1\r\n5\r\n", want3: "*1\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
		{cmd: "ZRANGE z 1 3 rev", want: "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"},
		{cmd: "ZREVRANGE z 0 1", want: "*2\r\n$1\r\ne\r\n$1\r\nd\r\n"},
		{cmd: "ZREVRANGE z 0 -1 WITHSCORES", want: "*10\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n", want3: "*5\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
		{cmd: "ZREVRANGE z -1 -1", want: "*1\r\n$1\r\na\r\n"},
		{cmd: "ZRANGE z a b", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZRANGE z 0 b", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZRANGE nokey 0 -1", want: "*0\r\n"},
		{cmd: "ZRANGE nokey 0 -1 WITHSCORES", want: "*0\r\n"},
		{cmd: "ZRANGE z 0 -1 LIMIT 0 1", want: "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"},
		{cmd: "ZRANGE z 0 -1 LIMIT 0 -1", want: "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGE z 0 -1 REV REV", want: "-ERR syntax error\r\n"},
		{cmd: "ZREVRANGE z 0 -1 REV", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGE z 0 -1 BYSCORE BYLEX", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGE z 0 -1 FOO", want: "-ERR syntax error\r\n"},
		{cmd: "ZREVRANGE z 0 -1 BYSCORE", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGE z 0 -1 WITHSCORES WITHSCORES", want: "*10\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n", want3: "*5\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
		{cmd: "ZRANGE z 0 9223372036854775807", want: "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGE z -9223372036854775808 1", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{cmd: "ZRANGE z 0 9223372036854775808", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZRANGE z 0 -1 LIMIT 1", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGE nokey a b", want: "-ERR value is not an integer or out of range\r\n"},
	}},
	{name: "range by score", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c 4 d 5 e", want: ":5\r\n"},
		{cmd: "ZRANGE z 2 4 BYSCORE", want: "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{cmd: "ZRANGE z (2 4 BYSCORE", want: "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{cmd: "ZRANGE z 2 (4 BYSCORE WITHSCORES", want: "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n", want3: "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{cmd: "ZRANGE z -inf +inf BYSCORE LIMIT 1 2", want: "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGE z +inf -inf BYSCORE REV LIMIT 0 2 WITHSCORES", want: "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n", want3: "*2\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n"},
		{cmd: "ZRANGE z 4 2 REV BYSCORE", want: "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf +inf LIMIT 2 -1", want: "*3\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf +inf LIMIT 2 -5", want: "*3\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf +inf LIMIT -1 2", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf +inf LIMIT 5 2", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf +inf LIMIT 4 10", want: "*1\r\n$1\r\ne\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf +inf LIMIT 0 0", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z 5 1", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z 3 3", want: "*1\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGEBYSCORE z (3 3", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z 3 (3", want: "*0\r\n"},
		{cmd: "ZREVRANGEBYSCORE z 4 2", want: "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"},
		{cmd: "ZREVRANGEBYSCORE z (4 (2 WITHSCORES", want: "*2\r\n$1\r\nc\r\n$1\r\n3\r\n", want3: "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{cmd: "ZREVRANGEBYSCORE z +inf -inf LIMIT 1 1", want: "*1\r\n$1\r\nd\r\n"},
		{cmd: "ZREVRANGEBYSCORE z 2 4", want: "*0\r\n"},
		{cmd: "ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 1 10", want: "*8\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n", want3: "*4\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
		{cmd: "ZRANGEBYSCORE z abc 1", want: "-ERR min or max is not a float\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 nan", want: "-ERR min or max is not a float\r\n"},
		{cmd: "ZRANGEBYSCORE z ( 3", want: "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 (", want: "*0\r\n"},
		{args: []string{"ZRANGEBYSCORE", "z", "", "3"}, want: "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{args: []string{"ZRANGEBYSCORE", "z", "( 2", "3"}, want: "*1\r\n$1\r\nc\r\n"},
		{args: []string{"ZRANGEBYSCORE", "z", " ", "3"}, want: "-ERR min or max is not a float\r\n"},
		{args: []string{"ZRANGEBYSCORE", "z", "2 ", "3"}, want: "-ERR min or max is not a float\r\n"},
		{args: []string{"ZRANGEBYSCORE", "z", "2\x00junk", "3"}, want: "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGEBYSCORE z 0x2 3", want: "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGEBYSCORE z 1e400 inf", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z -1e400 1", want: "*1\r\n$1\r\na\r\n"},
		{cmd: "ZRANGEBYSCORE z -inf 1e-400", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 2 LIMIT 1", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 2 LIMIT a 1", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 2 LIMIT 1 a", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 2 REV", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 2 BYSCORE", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANGEBYSCORE z 1 2 withscores limit 0 1 withscores", want: "*2\r\n$1\r\na\r\n$1\r\n1\r\n", want3: "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"},
		{cmd: "ZRANGEBYSCORE nokey 1 2", want: "*0\r\n"},
		{cmd: "ZRANGEBYSCORE nokey x 2", want: "-ERR min or max is not a float\r\n"},
		{cmd: "ZCOUNT z -inf +inf", want: ":5\r\n"},
		{cmd: "ZCOUNT z (1 (5", want: ":3\r\n"},
		{cmd: "ZCOUNT z 3 3", want: ":1\r\n"},
		{cmd: "ZCOUNT z (3 3", want: ":0\r\n"},
		{cmd: "ZCOUNT z 5 1", want: ":0\r\n"},
		{cmd: "ZCOUNT z x 1", want: "-ERR min or max is not a float\r\n"},
		{cmd: "ZCOUNT nokey 0 1", want: ":0\r\n"},
		{cmd: "ZCOUNT nokey x 1", want: "-ERR min or max is not a float\r\n"},
	}},
	{name: "range by lex", steps: []harnessStep{
		{cmd: "ZADD z 0 a 0 b 0 c 0 d 0 e 0 ee", want: ":6\r\n"},
		{cmd: "ZRANGE z [b [d BYLEX", want: "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{cmd: "ZRANGE z - + BYLEX LIMIT 1 2", want: "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGE z + - BYLEX REV", want: "*6\r\n$2\r\nee\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{cmd: "ZRANGE z [d [b BYLEX REV LIMIT 1 5", want: "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"},
		{cmd: "ZRANGEBYLEX z (b (d", want: "*1\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGEBYLEX z [e +", want: "*2\r\n$1\r\ne\r\n$2\r\nee\r\n"},
		{cmd: "ZRANGEBYLEX z (e +", want: "*1\r\n$2\r\nee\r\n"},
		{cmd: "ZRANGEBYLEX z - (c", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{cmd: "ZRANGEBYLEX z + -", want: "*0\r\n"},
		{cmd: "ZRANGEBYLEX z - -", want: "*0\r\n"},
		{cmd: "ZRANGEBYLEX z [c [c", want: "*1\r\n$1\r\nc\r\n"},
		{cmd: "ZRANGEBYLEX z [c (c", want: "*0\r\n"},
		{cmd: "ZREVRANGEBYLEX z [d (a LIMIT 0 2", want: "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"},
		{cmd: "ZREVRANGEBYLEX z + - LIMIT 2 -1", want: "*4\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{cmd: "ZRANGEBYLEX z a c", want: "-ERR min or max not valid string range item\r\n"},
		{cmd: "ZRANGEBYLEX z +a +", want: "-ERR min or max not valid string range item\r\n"},
		{cmd: "ZRANGEBYLEX z - -a", want: "-ERR min or max not valid string range item\r\n"},
		{args: []string{"ZRANGEBYLEX", "z", "", "+"}, want: "-ERR min or max not valid string range item\r\n"},
		{args: []string{"ZRANGEBYLEX", "z", "+\x00x", "-"}, want: "*0\r\n"},
		{cmd: "ZRANGEBYLEX z [ +", want: "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nee\r\n"},
		{cmd: "ZRANGEBYLEX z - + WITHSCORES", want: "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"},
		{cmd: "ZRANGE z - + BYLEX WITHSCORES", want: "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"},
		{cmd: "ZRANGE z - + BYLEX LIMIT 0 1 WITHSCORES", want: "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"},
		{cmd: "ZRANGEBYLEX z - + LIMIT 1 1", want: "*1\r\n$1\r\nb\r\n"},
		{cmd: "ZRANGEBYLEX nokey - +", want: "*0\r\n"},
		{cmd: "ZRANGEBYLEX nokey x +", want: "-ERR min or max not valid string range item\r\n"},
		{cmd: "ZRANGE z a b BYLEX", want: "-ERR min or max not valid string range item\r\n"},
		{cmd: "ZLEXCOUNT z - +", want: ":6\r\n"},
		{cmd: "ZLEXCOUNT z [b (d", want: ":2\r\n"},
		{cmd: "ZLEXCOUNT z (e +", want: ":1\r\n"},
		{cmd: "ZLEXCOUNT z x y", want: "-ERR min or max not valid string range item\r\n"},
		{cmd: "ZLEXCOUNT nokey - +", want: ":0\r\n"},
		{cmd: "ZREMRANGEBYLEX z [a [b", want: ":2\r\n"},
		{cmd: "ZREMRANGEBYLEX z x +", want: "-ERR min or max not valid string range item\r\n"},
		{cmd: "ZRANGE z 0 -1", want: "*4\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nee\r\n"},
		{cmd: "ZREMRANGEBYLEX z - +", want: ":4\r\n"},
		{cmd: "EXISTS z", want: ":0\r\n"},
	}},
	{name: "rank", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c 3 d", want: ":4\r\n"},
		{cmd: "ZRANK z c", want: ":2\r\n"},
		{cmd: "ZREVRANK z c", want: ":1\r\n"},
		{cmd: "ZRANK z a", want: ":0\r\n"},
		{cmd: "ZREVRANK z a", want: ":3\r\n"},
		{cmd: "ZRANK z nope", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZREVRANK z nope", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZRANK nokey a", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZRANK z", want: "-ERR wrong number of arguments for 'zrank' command\r\n"},
	}},
	// ZRANK … WITHSCORE came with Redis 7.2: these answers are written from
	// its source (t_zset.c zrankGenericCommand), not recorded from 7.0.
	{name: "rank with score", redisMin: "7.2", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2.5 b 3 c", want: ":3\r\n"},
		{cmd: "ZRANK z b WITHSCORE", want: "*2\r\n:1\r\n$3\r\n2.5\r\n", want3: "*2\r\n:1\r\n,2.5\r\n"},
		{cmd: "ZREVRANK z c withscore", want: "*2\r\n:0\r\n$1\r\n3\r\n", want3: "*2\r\n:0\r\n,3\r\n"},
		{cmd: "ZRANK z nope WITHSCORE", want: "*-1\r\n", want3: "_\r\n"},
		{cmd: "ZRANK nokey a WITHSCORE", want: "*-1\r\n", want3: "_\r\n"},
		{cmd: "ZRANK nokey a", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "ZRANK z b FOO", want: "-ERR syntax error\r\n"},
		{cmd: "ZRANK z b WITHSCORE extra", want: "-ERR wrong number of arguments for 'zrank' command\r\n"},
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "ZREVRANK s a WITHSCORE", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{name: "remove", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c 4 d 5 e", want: ":5\r\n"},
		{cmd: "ZREM z a b nope", want: ":2\r\n"},
		{cmd: "ZREM nokey a", want: ":0\r\n"},
		{cmd: "ZREM z c d e nope", want: ":3\r\n"},
		{cmd: "EXISTS z", want: ":0\r\n"},
		{cmd: "ZADD z 1 a", want: ":1\r\n"},
		{cmd: "ZREM z a a", want: ":1\r\n"},
		{cmd: "EXISTS z", want: ":0\r\n"},
	}},
	{name: "remove ranges", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", want: ":6\r\n"},
		{cmd: "ZREMRANGEBYSCORE z (1 3", want: ":2\r\n"},
		{cmd: "ZRANGE z 0 -1", want: "*4\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"},
		{cmd: "ZREMRANGEBYRANK z 0 0", want: ":1\r\n"},
		{cmd: "ZREMRANGEBYRANK z -1 -1", want: ":1\r\n"},
		{cmd: "ZRANGE z 0 -1", want: "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{cmd: "ZREMRANGEBYRANK z 5 10", want: ":0\r\n"},
		{cmd: "ZREMRANGEBYRANK z 1 0", want: ":0\r\n"},
		{cmd: "ZREMRANGEBYRANK z a 1", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZREMRANGEBYRANK z 0 a", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZREMRANGEBYSCORE z a 1", want: "-ERR min or max is not a float\r\n"},
		{cmd: "ZREMRANGEBYSCORE z 1 (", want: ":0\r\n"},
		{cmd: "ZREMRANGEBYSCORE nokey 1 2", want: ":0\r\n"},
		{cmd: "ZREMRANGEBYRANK nokey 0 -1", want: ":0\r\n"},
		{cmd: "ZREMRANGEBYSCORE nokey a 2", want: "-ERR min or max is not a float\r\n"},
		{cmd: "ZREMRANGEBYSCORE z -inf +inf", want: ":2\r\n"},
		{cmd: "EXISTS z", want: ":0\r\n"},
		{cmd: "ZADD z 1 a 2 b", want: ":2\r\n"},
		{cmd: "ZREMRANGEBYRANK z -100 100", want: ":2\r\n"},
		{cmd: "EXISTS z", want: ":0\r\n"},
	}},
	{name: "pop", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b 3 c 4 d 5 e", want: ":5\r\n"},
		{cmd: "ZPOPMIN z", want: "*2\r\n$1\r\na\r\n$1\r\n1\r\n", want3: "*2\r\n$1\r\na\r\n,1\r\n"},
		{cmd: "ZPOPMAX z", want: "*2\r\n$1\r\ne\r\n$1\r\n5\r\n", want3: "*2\r\n$1\r\ne\r\n,5\r\n"},
		{cmd: "ZPOPMAX z 2", want: "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n", want3: "*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{cmd: "ZPOPMIN z 0", want: "*0\r\n"},
		{cmd: "ZPOPMIN z -1", want: "-ERR value is out of range, must be positive\r\n"},
		{cmd: "ZPOPMIN z a", want: "-ERR value is out of range, must be positive\r\n"},
		{cmd: "ZPOPMIN z 1 2", want: "-ERR syntax error\r\n"},
		{cmd: "ZPOPMIN nokey", want: "*0\r\n"},
		{cmd: "ZPOPMIN nokey 3", want: "*0\r\n"},
		{cmd: "ZPOPMAX nokey 0", want: "*0\r\n"},
		{cmd: "ZPOPMIN z 100", want: "*2\r\n$1\r\nb\r\n$1\r\n2\r\n", want3: "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{cmd: "EXISTS z", want: ":0\r\n"},
		{cmd: "ZPOPMIN z", want: "*0\r\n"},
		{cmd: "ZPOPMIN z 1", want: "*0\r\n"},
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "ZPOPMIN s", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZPOPMAX s 0", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{name: "mscore", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b", want: ":2\r\n"},
		{cmd: "ZMSCORE z a nope b", want: "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n", want3: "*3\r\n,1\r\n_\r\n,2\r\n"},
		{cmd: "ZMSCORE nokey a b", want: "*2\r\n$-1\r\n$-1\r\n", want3: "*2\r\n_\r\n_\r\n"},
		{cmd: "ZMSCORE z", want: "-ERR wrong number of arguments for 'zmscore' command\r\n"},
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "ZMSCORE s a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{name: "scan", steps: []harnessStep{
		{cmd: "ZADD z 3 c 1 a 2 b 2.5 ab", want: ":4\r\n"},
		{cmd: "ZSCAN z 0", want: "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$3\r\n2.5\r\n$1\r\nc\r\n$1\r\n3\r\n"},
		{cmd: "ZSCAN z 0 MATCH a* COUNT 1", want: "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$3\r\n2.5\r\n"},
		{cmd: "ZSCAN z 0 match *z*", want: "*2\r\n$1\r\n0\r\n*0\r\n"},
		{cmd: "ZSCAN nokey 0", want: "*2\r\n$1\r\n0\r\n*0\r\n"},
		{cmd: "ZSCAN nokey 0 COUNT 0", want: "*2\r\n$1\r\n0\r\n*0\r\n"},
		{cmd: "ZSCAN z abc", want: "-ERR invalid cursor\r\n"},
		{cmd: "ZSCAN z 0 COUNT 0", want: "-ERR syntax error\r\n"},
		{cmd: "ZSCAN z 0 FOO", want: "-ERR syntax error\r\n"},
		{cmd: "ZSCAN z 0 COUNT", want: "-ERR syntax error\r\n"},
		{cmd: "ZSCAN z 7", want: "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$3\r\n2.5\r\n$1\r\nc\r\n$1\r\n3\r\n"},
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "ZSCAN s 0", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{name: "wrong type", steps: []harnessStep{
		{cmd: "SET s x", want: "+OK\r\n"},
		{cmd: "HSET h f v", want: ":1\r\n"},
		{cmd: "ZADD h 1 a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZCARD s", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZSCORE s a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZREM s a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZRANGE s 0 -1", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZRANGEBYSCORE s 0 1", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZRANGEBYLEX s - +", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZRANK s a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZREVRANK s a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZCOUNT s 0 1", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZLEXCOUNT s - +", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZREMRANGEBYRANK s 0 1", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZREMRANGEBYSCORE s 0 1", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZREMRANGEBYLEX s - +", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZINCRBY h 1 a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "ZRANGE s a b", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "ZADD z 1 a", want: ":1\r\n"},
		{cmd: "GET z", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "SADD z x", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "HSET z f v", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{name: "arity", steps: []harnessStep{
		{cmd: "ZADD z 1", want: "-ERR wrong number of arguments for 'zadd' command\r\n"},
		{cmd: "ZCARD", want: "-ERR wrong number of arguments for 'zcard' command\r\n"},
		{cmd: "ZSCORE z", want: "-ERR wrong number of arguments for 'zscore' command\r\n"},
		{cmd: "ZINCRBY z 1", want: "-ERR wrong number of arguments for 'zincrby' command\r\n"},
		{cmd: "ZRANGE z 0", want: "-ERR wrong number of arguments for 'zrange' command\r\n"},
		{cmd: "ZRANK z", want: "-ERR wrong number of arguments for 'zrank' command\r\n"},
		{cmd: "ZCOUNT z 1", want: "-ERR wrong number of arguments for 'zcount' command\r\n"},
		{cmd: "ZPOPMIN", want: "-ERR wrong number of arguments for 'zpopmin' command\r\n"},
		{cmd: "ZSCAN z", want: "-ERR wrong number of arguments for 'zscan' command\r\n"},
		{cmd: "ZREM z", want: "-ERR wrong number of arguments for 'zrem' command\r\n"},
		{cmd: "ZMSCORE z", want: "-ERR wrong number of arguments for 'zmscore' command\r\n"},
	}},
	{name: "keyspace", steps: []harnessStep{
		{cmd: "ZADD z 1 a 2 b", want: ":2\r\n"},
		{cmd: "EXPIRE z 100", want: ":1\r\n"},
		{cmd: "TTL z", want: ":100\r\n"},
		{cmd: "TYPE z", want: "+zset\r\n"},
		{cmd: "RENAME z z2", want: "+OK\r\n"},
		{cmd: "TTL z2", want: ":100\r\n"},
		{cmd: "ZRANGE z2 0 -1 WITHSCORES", want: "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", want3: "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{cmd: "COPY z2 z3", want: ":1\r\n"},
		{cmd: "ZSCORE z3 b", want: "$1\r\n2\r\n", want3: ",2\r\n"},
		{cmd: "ZADD z3 3 c", want: ":1\r\n"},
		{cmd: "ZCARD z2", want: ":2\r\n"},
		{cmd: "ZCARD z3", want: ":3\r\n"},
		{cmd: "MOVE z3 1", want: ":1\r\n"},
		{cmd: "EXISTS z3", want: ":0\r\n"},
		{cmd: "SELECT 1", want: "+OK\r\n"},
		{cmd: "ZRANGE z3 0 -1 WITHSCORES", want: "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n", want3: "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{cmd: "SELECT 0", want: "+OK\r\n"},
		{cmd: "DEL z2", want: ":1\r\n"},
		{cmd: "EXISTS z2", want: ":0\r\n"},
		{cmd: "ZADD z 1 a", want: ":1\r\n"},
		{cmd: "SET z x", want: "+OK\r\n"},
		{cmd: "TYPE z", want: "+string\r\n"},
		{cmd: "ZADD z 1 a", want: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{cmd: "SCAN 0 TYPE zset", want: "*2\r\n$1\r\n0\r\n*0\r\n"},
		{cmd: "ZADD z4 1 a", want: ":1\r\n"},
		{cmd: "SCAN 0 TYPE zset", want: "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nz4\r\n"},
		{cmd: "PERSIST z4", want: ":0\r\n"},
		{cmd: "ZADD z4 2 b", want: ":1\r\n"},
		{cmd: "RENAME z4 z5", want: "+OK\r\n"},
		{cmd: "ZRANGE z5 0 -1", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
	}},
	{name: "large", steps: []harnessStep{
		{args: zsetBigArgs("big", 200), want: ":200\r\n"},
		{cmd: "ZCARD big", want: ":200\r\n"},
		{cmd: "ZRANGE big 95 104 WITHSCORES", want: "*20\r\n$4\r\nm095\r\n$4\r\n47.5\r\n$4\r\nm096\r\n$2\r\n48\r\n$4\r\nm097\r\n$4\r\n48.5\r\n$4\r\nm098\r\n$2\r\n49\r\n$4\r\nm099\r\n$4\r\n49.5\r\n$4\r\nm100\r\n$2\r\n50\r\n$4\r\nm101\r\n$4\r\n50.5\r\n$4\r\nm102\r\n$2\r\n51\r\n$4\r\nm103\r\n$4\r\n51.5\r\n$4\r\nm104\r\n$2\r\n52\r\n", want3: "*10\r\n*2\r\n$4\r\nm095\r\n,47.5\r\n*2\r\n$4\r\nm096\r\n,48\r\n*2\r\n$4\r\nm097\r\n,48.5\r\n*2\r\n$4\r\nm098\r\n,49\r\n*2\r\n$4\r\nm099\r\n,49.5\r\n*2\r\n$4\r\nm100\r\n,50\r\n*2\r\n$4\r\nm101\r\n,50.5\r\n*2\r\n$4\r\nm102\r\n,51\r\n*2\r\n$4\r\nm103\r\n,51.5\r\n*2\r\n$4\r\nm104\r\n,52\r\n"},
		{cmd: "ZRANGE big -3 -1", want: "*3\r\n$4\r\nm197\r\n$4\r\nm198\r\n$4\r\nm199\r\n"},
		{cmd: "ZREVRANGE big 0 2 WITHSCORES", want: "*6\r\n$4\r\nm199\r\n$4\r\n99.5\r\n$4\r\nm198\r\n$2\r\n99\r\n$4\r\nm197\r\n$4\r\n98.5\r\n", want3: "*3\r\n*2\r\n$4\r\nm199\r\n,99.5\r\n*2\r\n$4\r\nm198\r\n,99\r\n*2\r\n$4\r\nm197\r\n,98.5\r\n"},
		{cmd: "ZRANK big m150", want: ":150\r\n"},
		{cmd: "ZREVRANK big m150", want: ":49\r\n"},
		{cmd: "ZCOUNT big 10 (20", want: ":20\r\n"},
		{cmd: "ZRANGEBYSCORE big 50 +inf LIMIT 3 4", want: "*4\r\n$4\r\nm103\r\n$4\r\nm104\r\n$4\r\nm105\r\n$4\r\nm106\r\n"},
		{cmd: "ZREVRANGEBYSCORE big 50 -inf LIMIT 3 4 WITHSCORES", want: "*8\r\n$4\r\nm097\r\n$4\r\n48.5\r\n$4\r\nm096\r\n$2\r\n48\r\n$4\r\nm095\r\n$4\r\n47.5\r\n$4\r\nm094\r\n$2\r\n47\r\n", want3: "*4\r\n*2\r\n$4\r\nm097\r\n,48.5\r\n*2\r\n$4\r\nm096\r\n,48\r\n*2\r\n$4\r\nm095\r\n,47.5\r\n*2\r\n$4\r\nm094\r\n,47\r\n"},
		{cmd: "ZRANGEBYSCORE big (99 100", want: "*1\r\n$4\r\nm199\r\n"},
		{cmd: "ZSCORE big m199", want: "$4\r\n99.5\r\n", want3: ",99.5\r\n"},
		{cmd: "ZREMRANGEBYRANK big 10 189", want: ":180\r\n"},
		{cmd: "ZCARD big", want: ":20\r\n"},
		{cmd: "ZRANGE big 8 11", want: "*4\r\n$4\r\nm008\r\n$4\r\nm009\r\n$4\r\nm190\r\n$4\r\nm191\r\n"},
		{cmd: "ZREMRANGEBYSCORE big 2 97", want: ":11\r\n"},
		{cmd: "ZRANGE big 0 -1", want: "*9\r\n$4\r\nm000\r\n$4\r\nm001\r\n$4\r\nm002\r\n$4\r\nm003\r\n$4\r\nm195\r\n$4\r\nm196\r\n$4\r\nm197\r\n$4\r\nm198\r\n$4\r\nm199\r\n"},
		{cmd: "ZADD big 0 m000 0 m001 0 m002", want: ":0\r\n"},
		{cmd: "ZRANGEBYLEX big [m001 +", want: "*8\r\n$4\r\nm001\r\n$4\r\nm002\r\n$4\r\nm003\r\n$4\r\nm195\r\n$4\r\nm196\r\n$4\r\nm197\r\n$4\r\nm198\r\n$4\r\nm199\r\n"},
		{cmd: "ZPOPMAX big 2", want: "*4\r\n$4\r\nm199\r\n$4\r\n99.5\r\n$4\r\nm198\r\n$2\r\n99\r\n", want3: "*2\r\n*2\r\n$4\r\nm199\r\n,99.5\r\n*2\r\n$4\r\nm198\r\n,99\r\n"},
		{cmd: "ZCARD big", want: ":7\r\n"},
	}},
}

// Ensure that every sorted-set command answers as Redis does, byte for byte,
// over RESP2 and RESP3, including its errors and score formatting.
func TestZSetProtocol_Replies(t *testing.T) {
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := harnessStartSessdb(t, t.TempDir())
		harnessRun(t, addr, "", zsetCases)
	})
	t.Run("redis", func(t *testing.T) {
		addr, version := harnessStartRedis(t)
		harnessRun(t, addr, version, zsetCases)
	})
}

// Ensure that sorted sets, their scores and their deadlines survive a
// restart of the server.
func TestZSetProtocol_Restart(t *testing.T) {
	dir := t.TempDir()
	addr, stop := harnessStartSessdb(t, dir)
	c := harnessDial(t, addr, 2)
	require.Equal(t, ":5\r\n", c.do(t, "ZADD", "z", "1.5", "a", "-inf", "b", "inf", "c", "-0", "d", "0.1", "e"))
	require.Equal(t, ":1\r\n", c.do(t, "ZREM", "z", "e"))
	require.Equal(t, "$3\r\n2.5\r\n", c.do(t, "ZINCRBY", "z", "1", "a"))
	require.Equal(t, ":200\r\n", c.do(t, zsetBigArgs("big", 200)...))
	require.Equal(t, ":100\r\n", c.do(t, "ZREMRANGEBYRANK", "big", "50", "149"))
	require.Equal(t, ":1\r\n", c.do(t, "ZADD", "gone", "1", "x"))
	require.Equal(t, "*2\r\n$1\r\nx\r\n$1\r\n1\r\n", c.do(t, "ZPOPMIN", "gone"))
	require.Equal(t, ":1\r\n", c.do(t, "ZADD", "ttl", "1", "x"))
	require.Equal(t, ":1\r\n", c.do(t, "EXPIRE", "ttl", "1000"))
	require.Equal(t, "+OK\r\n", c.do(t, "RENAME", "z", "renamed"))

	read := func(c *harnessConn) []string {
		return []string{
			c.do(t, "ZRANGE", "renamed", "0", "-1", "WITHSCORES"),
			c.do(t, "ZRANGE", "big", "45", "55", "WITHSCORES"),
			c.do(t, "ZCARD", "big"),
			c.do(t, "ZRANK", "big", "m160"),
			c.do(t, "EXISTS", "gone", "z"),
			c.do(t, "TYPE", "ttl"),
		}
	}
	before := read(c)
	require.Equal(t, "*8\r\n$1\r\nb\r\n$4\r\n-inf\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nc\r\n$3\r\ninf\r\n", before[0])
	require.Equal(t, ":100\r\n", before[2])
	require.Equal(t, ":60\r\n", before[3])
	require.Equal(t, ":0\r\n", before[4])
	require.Equal(t, "+zset\r\n", before[5])
	stop()

	addr, _ = harnessStartSessdb(t, dir)
	c = harnessDial(t, addr, 2)
	require.Equal(t, before, read(c))
	ttl, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(c.do(t, "TTL", "ttl"), ":")))
	require.NoError(t, err)
	require.InDelta(t, 1000, ttl, 5)
}

// Ensure that sorted-set commands publish Redis's keyspace events, in
// Redis's order, and only when they change something.
func TestZSetProtocol_KeyspaceEvents(t *testing.T) {
	script := []string{
		"ZADD z 1 a 2 b", "ZADD z 1 a", "ZINCRBY z 1 a", "ZADD z XX 5 nope", "ZREM z nope", "ZREM z a",
		"ZADD z 3 c 4 d", "ZREMRANGEBYSCORE z 3 3", "ZREMRANGEBYSCORE z 3 3", "ZREMRANGEBYRANK z 0 0", "ZPOPMAX z",
		"ZADD y 0 a 0 b", "ZREMRANGEBYLEX y - +", "ZPOPMIN nokey", "ZADD y INCR 1 a", "ZADD done 1 x",
	}
	want := []string{
		"new z", "zadd z", "zincr z", "zrem z", "zadd z", "zremrangebyscore z", "zremrangebyrank z", "zpopmax z", "del z",
		"new y", "zadd y", "zremrangebylex y", "del y", "new y", "zincr y", "new done", "zadd done",
	}
	check := func(t *testing.T, addr string) {
		c := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", c.do(t, "CONFIG", "SET", "notify-keyspace-events", "Egzn"))
		sub := harnessDial(t, addr, 2)
		require.Equal(t, "*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n", sub.do(t, "PSUBSCRIBE", "__keyevent@0__:*"))
		for _, cmd := range script {
			c.do(t, strings.Fields(cmd)...)
		}
		var got []string
		for len(got) < len(want) {
			var msg strings.Builder
			require.NoError(t, harnessReadReply(sub.r, &msg))
			parts := strings.Split(msg.String(), "\r\n") // *4 $8 pmessage $n pattern $n channel $n key
			require.Len(t, parts, 10, "%q", msg.String())
			got = append(got, strings.TrimPrefix(parts[6], "__keyevent@0__:")+" "+parts[8])
			if got[len(got)-1] == "zadd done" {
				break
			}
		}
		require.Equal(t, want, got)
	}
	harnessBoth(t, check)
}
