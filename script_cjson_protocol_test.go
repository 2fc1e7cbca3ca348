package sessdb_test

import (
	"testing"
)

// cjsonErr is the reply to a script whose cjson call raised msg on line 1.
func cjsonErr(body, msg string) string {
	return scriptErr(body, "ERR user_script:1: "+msg, 1)
}

// cjsonCase is an EVAL of body with no keys.
func cjsonCase(body, want string) harnessStep {
	return scriptEval(body, want, "", "0")
}

var cjsonCases = []harnessCase{
	{name: "encode", steps: []harnessStep{
		cjsonCase("return cjson.encode({1,2,3})", "$7\r\n[1,2,3]\r\n"),
		cjsonCase("return cjson.encode({a=1})", "$7\r\n{\"a\":1}\r\n"),
		cjsonCase("return cjson.encode({})", "$2\r\n{}\r\n"),
		cjsonCase("return cjson.encode({a={b={1,'x',true,false}}})", "$30\r\n{\"a\":{\"b\":[1,\"x\",true,false]}}\r\n"),
		cjsonCase("return cjson.encode('a\"b\\\\c/d\\n\\t\\r\\b\\f\\1\\31\\127 é')", "$43\r\n\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f é\"\r\n"),
		cjsonCase("return cjson.encode('\\128\\255')", "$4\r\n\"\x80\xff\"\r\n"),
		cjsonCase("return cjson.encode({['a/b']='x\\0y'})", "$19\r\n{\"a\\/b\":\"x\\u0000y\"}\r\n"),
		cjsonCase("return cjson.encode(1.5)", "$3\r\n1.5\r\n"),
		cjsonCase("return cjson.encode(3)", "$1\r\n3\r\n"),
		cjsonCase("return cjson.encode(0.1)", "$3\r\n0.1\r\n"),
		cjsonCase("return cjson.encode(1e20)", "$5\r\n1e+20\r\n"),
		cjsonCase("return cjson.encode(-0)", "$2\r\n-0\r\n"),
		cjsonCase("return cjson.encode(1/3)", "$16\r\n0.33333333333333\r\n"),
		cjsonCase("return cjson.encode(2^53)", "$18\r\n9.007199254741e+15\r\n"),
		cjsonCase("return cjson.encode(nil)", "$4\r\nnull\r\n"),
		cjsonCase("return cjson.encode(true)", "$4\r\ntrue\r\n"),
		cjsonCase("return cjson.encode(cjson.null)", "$4\r\nnull\r\n"),
		cjsonCase("return cjson.encode({1,nil,3})", "$10\r\n[1,null,3]\r\n"),
		cjsonCase("return cjson.encode({[1]=1,[2]=2,[4]=3})", "$12\r\n[1,2,null,3]\r\n"),
		cjsonCase("return cjson.encode({[2]='a'})", "$10\r\n[null,\"a\"]\r\n"),
		cjsonCase("return cjson.encode({[1]='a',x='b'})", "$17\r\n{\"1\":\"a\",\"x\":\"b\"}\r\n"),
		cjsonCase("return cjson.encode({[1.5]='a'})", "$11\r\n{\"1.5\":\"a\"}\r\n"),
		cjsonCase("return cjson.encode({[-1]='a'})", "$10\r\n{\"-1\":\"a\"}\r\n"),
		cjsonCase("return cjson.encode({[0]='a'})", "$9\r\n{\"0\":\"a\"}\r\n"),
	}},
	{name: "encode errors", steps: []harnessStep{
		cjsonCase("return cjson.encode({[1]=1,[20]=2})", cjsonErr("return cjson.encode({[1]=1,[20]=2})", "Cannot serialise table: excessively sparse array")),
		cjsonCase("return cjson.encode({[true]='a'})", cjsonErr("return cjson.encode({[true]='a'})", "Cannot serialise boolean: table key must be a number or string")),
		cjsonCase("return cjson.encode(function() end)", cjsonErr("return cjson.encode(function() end)", "Cannot serialise function: type not supported")),
		cjsonCase("return cjson.encode(1/0)", cjsonErr("return cjson.encode(1/0)", "Cannot serialise number: must not be NaN or Inf")),
		cjsonCase("return cjson.encode(0/0)", cjsonErr("return cjson.encode(0/0)", "Cannot serialise number: must not be NaN or Inf")),
		cjsonCase("return cjson.encode()", cjsonErr("return cjson.encode()", "bad argument #1 to 'encode' (expected 1 argument)")),
		cjsonCase("return cjson.encode(1,2)", cjsonErr("return cjson.encode(1,2)", "bad argument #1 to 'encode' (expected 1 argument)")),
		cjsonCase("local t = {} local c = t for i=1,1100 do c[1] = {} c = c[1] end return cjson.encode(t)",
			cjsonErr("local t = {} local c = t for i=1,1100 do c[1] = {} c = c[1] end return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)")),
		cjsonCase("cjson.x = 1 return 1", cjsonErr("cjson.x = 1 return 1", "Attempt to modify a readonly table")),
	}},
	{name: "decode", steps: []harnessStep{
		cjsonCase("return cjson.decode('[1,2,3]')", "*3\r\n:1\r\n:2\r\n:3\r\n"),
		cjsonCase("return cjson.decode('{\"a\":[1,2,{\"b\":\"c\"}]}').a[3].b", "$1\r\nc\r\n"),
		cjsonCase("return cjson.decode('\"x\\\\u00e9\\\\n\\\\/\"')", "$5\r\nx\xc3\xa9\n/\r\n"),
		cjsonCase("return cjson.decode('\"\\\\ud83d\\\\ude00\"')", "$4\r\n\xf0\x9f\x98\x80\r\n"),
		cjsonCase("return cjson.decode('1.5')", ":1\r\n"),
		cjsonCase("return cjson.decode('12')", ":12\r\n"),
		cjsonCase("return cjson.decode('1e3')", ":1000\r\n"),
		cjsonCase("return type(cjson.decode('null'))", "$8\r\nuserdata\r\n"),
		cjsonCase("return tostring(cjson.decode('null') == cjson.null)", "$4\r\ntrue\r\n"),
		scriptEval("return cjson.decode('[1,null,3]')", "*3\r\n:1\r\n$-1\r\n:3\r\n", "*3\r\n:1\r\n_\r\n:3\r\n", "0"),
		cjsonCase("return #cjson.decode('[1,null,3]')", ":3\r\n"),
		cjsonCase("return cjson.decode('true')", ":1\r\n"),
		scriptEval("return cjson.decode('false')", "$-1\r\n", "_\r\n", "0"),
		cjsonCase("return cjson.decode('{\"a\":1,\"a\":2}').a", ":2\r\n"),
		cjsonCase("return cjson.decode(5)", ":5\r\n"),
		cjsonCase("return cjson.decode('[01]')", "*1\r\n:1\r\n"),
		cjsonCase("return cjson.decode('[1.]')", "*1\r\n:1\r\n"),
		cjsonCase("return cjson.decode('0x10')", ":16\r\n"),
		cjsonCase("return cjson.decode('\"a\tb\"')", "$3\r\na\tb\r\n"),
		cjsonCase("return cjson.decode('  [ 1 , 2 ]  ')", "*2\r\n:1\r\n:2\r\n"),
		cjsonCase("return cjson.decode('[[[[1]]]]')[1][1][1][1]", ":1\r\n"),
		cjsonCase("return cjson.encode(cjson.decode('{\"k\":\"v\"}'))", "$9\r\n{\"k\":\"v\"}\r\n"),
		cjsonCase("local s = cjson.decode('{\"user\":\"ann\",\"n\":3}') s.n = s.n + 1 return {s.user, s.n}", "*2\r\n$3\r\nann\r\n:4\r\n"),
		cjsonCase("return {cjson._NAME, cjson._VERSION}", "*2\r\n$5\r\ncjson\r\n$5\r\n2.1.0\r\n"),
	}},
	{name: "decode errors", steps: []harnessStep{
		cjsonCase("return cjson.decode('{')", cjsonErr("return cjson.decode('{')", "Expected object key string but found T_END at character 2")),
		cjsonCase("return cjson.decode('')", cjsonErr("return cjson.decode('')", "Expected value but found T_END at character 1")),
		cjsonCase("return cjson.decode('[1,2')", cjsonErr("return cjson.decode('[1,2')", "Expected comma or array end but found T_END at character 5")),
		cjsonCase("return cjson.decode('{\"a\" 1}')", cjsonErr("return cjson.decode('{\"a\" 1}')", "Expected colon but found T_NUMBER at character 6")),
		cjsonCase("return cjson.decode('xyz')", cjsonErr("return cjson.decode('xyz')", "Expected value but found invalid token at character 1")),
		cjsonCase("return cjson.decode('[1] x')", cjsonErr("return cjson.decode('[1] x')", "Expected the end but found invalid token at character 5")),
		cjsonCase("return cjson.decode()", cjsonErr("return cjson.decode()", "bad argument #1 to 'decode' (expected 1 argument)")),
		cjsonCase("return cjson.decode({})", cjsonErr("return cjson.decode({})", "bad argument #1 to 'decode' (string expected, got table)")),
	}},
}

// Ensure that cjson.encode and cjson.decode inside scripts answer as Redis
// 7's lua-cjson, output and error messages alike.
func TestScriptCJSONProtocol_Replies(t *testing.T) {
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := harnessStartSessdb(t, t.TempDir())
		harnessRun(t, addr, "", cjsonCases)
	})
	t.Run("redis", func(t *testing.T) {
		addr, version := harnessStartRedis(t)
		harnessRun(t, addr, version, cjsonCases)
	})
}
