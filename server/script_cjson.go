package server

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// The cjson library of Redis's scripts (lua-cjson 2.1.0 with its default
// settings): cjson.encode, cjson.decode and cjson.null, with lua-cjson's
// output and error messages. Object keys come out in gopher-lua's table
// order, which for several keys need not be Lua 5.1's. The settings
// functions (encode_max_depth, new, …) are not provided.

const (
	cjsonMaxDepth     = 1000 // encode_max_depth and decode_max_depth
	cjsonSparseRatio  = 2    // encode_sparse_array's ratio
	cjsonSparseSafe   = 10   // and safe
	cjsonNumberFormat = 14   // encode_number_precision
)

// openCJSON builds the cjson table; null is the VM's cjson.null.
func openCJSON(L *lua.LState) *lua.LTable {
	null := L.NewUserData()
	t := L.NewTable()
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.RaiseError("bad argument #1 to 'encode' (expected 1 argument)")
		}
		var b strings.Builder
		if msg := cjsonEncode(&b, L.Get(1), null, 0); msg != "" {
			L.RaiseError("%s", msg)
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.RaiseError("bad argument #1 to 'decode' (expected 1 argument)")
		}
		var s string
		switch v := L.Get(1).(type) {
		case lua.LString:
			s = string(v)
		case lua.LNumber:
			s = luaNumberString(float64(v))
		default:
			L.RaiseError("bad argument #1 to 'decode' (string expected, got %s)", luaTypeName(v))
		}
		d := &cjsonDecoder{L: L, s: s, null: null}
		v, msg := d.decode()
		if msg != "" {
			L.RaiseError("%s", msg)
		}
		L.Push(v)
		return 1
	}))
	t.RawSetString("null", null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// luaTypeName is Lua's type(v), with nil for gopher-lua's own types.
func luaTypeName(v lua.LValue) string {
	switch v.Type() {
	case lua.LTNil:
		return "nil"
	case lua.LTBool:
		return "boolean"
	case lua.LTNumber:
		return "number"
	case lua.LTString:
		return "string"
	case lua.LTTable:
		return "table"
	case lua.LTFunction:
		return "function"
	case lua.LTUserData:
		return "userdata"
	case lua.LTThread:
		return "thread"
	}
	return v.Type().String()
}

// cjsonNumber formats a number as lua-cjson's "%.14g"; it returns "" for
// NaN and infinities.
func cjsonNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', cjsonNumberFormat, 64)
}

// cjsonString appends s as a JSON string with lua-cjson's escapes ("/" is
// escaped too; bytes from 0x80 up pass through as they are).
func cjsonString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch ch {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if ch < 0x20 || ch == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hex[ch>>4])
				b.WriteByte(hex[ch&15])
			} else {
				b.WriteByte(ch)
			}
		}
	}
	b.WriteByte('"')
}

// cjsonEncode appends v; it returns lua-cjson's error message on failure.
func cjsonEncode(b *strings.Builder, v lua.LValue, null lua.LValue, depth int) string {
	switch v := v.(type) {
	case *lua.LNilType:
		b.WriteString("null")
	case lua.LBool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case lua.LNumber:
		s := cjsonNumber(float64(v))
		if s == "" {
			return "Cannot serialise number: must not be NaN or Inf"
		}
		b.WriteString(s)
	case lua.LString:
		cjsonString(b, string(v))
	case *lua.LTable:
		depth++
		if depth > cjsonMaxDepth {
			return "Cannot serialise, excessive nesting (" + strconv.Itoa(depth) + ")"
		}
		return cjsonTable(b, v, null, depth)
	default:
		if v == null {
			b.WriteString("null")
			return ""
		}
		return "Cannot serialise " + luaTypeName(v) + ": type not supported"
	}
	return ""
}

// cjsonArrayLength is lua-cjson's lua_array_length: the largest key when
// every key is a positive integer (0 for an empty table), -1 when the table
// is an object, -2 when it is an excessively sparse array.
func cjsonArrayLength(t *lua.LTable) int {
	max, items, array := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) || float64(n) > math.MaxInt32 {
			array = false
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if !array {
		return -1
	}
	if max > cjsonSparseSafe && max > items*cjsonSparseRatio {
		return -2
	}
	return max
}

func cjsonTable(b *strings.Builder, t *lua.LTable, null lua.LValue, depth int) string {
	n := cjsonArrayLength(t)
	if n == -2 {
		return "Cannot serialise table: excessively sparse array"
	}
	if n > 0 {
		b.WriteByte('[')
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteByte(',')
			}
			if msg := cjsonEncode(b, t.RawGetInt(i), null, depth); msg != "" {
				return msg
			}
		}
		b.WriteByte(']')
		return ""
	}
	b.WriteByte('{')
	first, msg := true, ""
	t.ForEach(func(k, v lua.LValue) {
		if msg != "" {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		switch k := k.(type) {
		case lua.LString:
			cjsonString(b, string(k))
		case lua.LNumber:
			s := cjsonNumber(float64(k))
			if s == "" {
				msg = "Cannot serialise number: must not be NaN or Inf"
				return
			}
			b.WriteByte('"')
			b.WriteString(s)
			b.WriteByte('"')
		default:
			msg = "Cannot serialise " + luaTypeName(k) + ": table key must be a number or string"
			return
		}
		b.WriteByte(':')
		msg = cjsonEncode(b, v, null, depth)
	})
	if msg != "" {
		return msg
	}
	b.WriteByte('}')
	return ""
}

// cjsonDecoder is lua-cjson's decoder: a tokenizer and a recursive parser
// whose errors read "Expected <what> but found <token> at character <n>".
type cjsonDecoder struct {
	L     *lua.LState
	s     string
	i     int
	null  lua.LValue
	depth int
}

// Token kinds, named as lua-cjson names them in its errors.
const (
	tokObjBegin = "T_OBJ_BEGIN"
	tokObjEnd   = "T_OBJ_END"
	tokArrBegin = "T_ARR_BEGIN"
	tokArrEnd   = "T_ARR_END"
	tokString   = "T_STRING"
	tokNumber   = "T_NUMBER"
	tokBoolean  = "T_BOOLEAN"
	tokNull     = "T_NULL"
	tokColon    = "T_COLON"
	tokComma    = "T_COMMA"
	tokEnd      = "T_END"
	tokError    = "T_ERROR"
)

type cjsonToken struct {
	kind  string
	pos   int // 0-based offset of the token
	value lua.LValue
	err   string // for tokError: lua-cjson's description ("invalid token", …)
}

func (d *cjsonDecoder) decode() (lua.LValue, string) {
	tok := d.next()
	v, msg := d.value(tok)
	if msg != "" {
		return nil, msg
	}
	if tok = d.next(); tok.kind != tokEnd {
		return nil, d.unexpected("the end", tok)
	}
	return v, ""
}

func (d *cjsonDecoder) unexpected(what string, tok cjsonToken) string {
	found := tok.kind
	if tok.kind == tokError {
		found = tok.err
	}
	return "Expected " + what + " but found " + found + " at character " + strconv.Itoa(tok.pos+1)
}

func (d *cjsonDecoder) value(tok cjsonToken) (lua.LValue, string) {
	switch tok.kind {
	case tokString, tokNumber, tokBoolean:
		return tok.value, ""
	case tokNull:
		return d.null, ""
	case tokObjBegin:
		return d.object(tok)
	case tokArrBegin:
		return d.array(tok)
	}
	return nil, d.unexpected("value", tok)
}

func (d *cjsonDecoder) nest(tok cjsonToken) string {
	d.depth++
	if d.depth > cjsonMaxDepth {
		return "Found too many nested data structures (" + strconv.Itoa(d.depth) + ") at character " + strconv.Itoa(tok.pos+1)
	}
	return ""
}

func (d *cjsonDecoder) object(open cjsonToken) (lua.LValue, string) {
	if msg := d.nest(open); msg != "" {
		return nil, msg
	}
	t := d.L.NewTable()
	tok := d.next()
	if tok.kind == tokObjEnd {
		d.depth--
		return t, ""
	}
	for {
		if tok.kind != tokString {
			return nil, d.unexpected("object key string", tok)
		}
		key := tok.value
		if tok = d.next(); tok.kind != tokColon {
			return nil, d.unexpected("colon", tok)
		}
		v, msg := d.value(d.next())
		if msg != "" {
			return nil, msg
		}
		t.RawSet(key, v)
		tok = d.next()
		if tok.kind == tokObjEnd {
			d.depth--
			return t, ""
		}
		if tok.kind != tokComma {
			return nil, d.unexpected("comma or object end", tok)
		}
		tok = d.next()
	}
}

func (d *cjsonDecoder) array(open cjsonToken) (lua.LValue, string) {
	if msg := d.nest(open); msg != "" {
		return nil, msg
	}
	t := d.L.NewTable()
	tok := d.next()
	if tok.kind == tokArrEnd {
		d.depth--
		return t, ""
	}
	for i := 1; ; i++ {
		v, msg := d.value(tok)
		if msg != "" {
			return nil, msg
		}
		t.RawSetInt(i, v)
		tok = d.next()
		if tok.kind == tokArrEnd {
			d.depth--
			return t, ""
		}
		if tok.kind != tokComma {
			return nil, d.unexpected("comma or array end", tok)
		}
		tok = d.next()
	}
}

// next reads one token.
func (d *cjsonDecoder) next() cjsonToken {
	for d.i < len(d.s) && strings.IndexByte(" \t\n\r", d.s[d.i]) >= 0 {
		d.i++
	}
	tok := cjsonToken{pos: d.i}
	if d.i >= len(d.s) {
		tok.kind = tokEnd
		return tok
	}
	ch := d.s[d.i]
	if k := cjsonPunct(ch); k != "" {
		d.i++
		tok.kind = k
		return tok
	}
	switch {
	case ch == '"':
		return d.str(tok)
	case ch == '-' || (ch >= '0' && ch <= '9') || ch == 'i' || ch == 'I' || ch == 'n' || ch == 'N':
		if n, l := cjsonParseNumber(d.s[d.i:]); l > 0 {
			d.i += l
			tok.kind, tok.value = tokNumber, lua.LNumber(n)
			return tok
		}
	}
	for _, w := range []struct {
		word string
		kind string
		v    lua.LValue
	}{{"true", tokBoolean, lua.LTrue}, {"false", tokBoolean, lua.LFalse}, {"null", tokNull, nil}} {
		if strings.HasPrefix(d.s[d.i:], w.word) {
			d.i += len(w.word)
			tok.kind, tok.value = w.kind, w.v
			return tok
		}
	}
	tok.kind, tok.err = tokError, "invalid token"
	return tok
}

func cjsonPunct(ch byte) string {
	switch ch {
	case '{':
		return tokObjBegin
	case '}':
		return tokObjEnd
	case '[':
		return tokArrBegin
	case ']':
		return tokArrEnd
	case ':':
		return tokColon
	case ',':
		return tokComma
	}
	return ""
}

// cjsonParseNumber reads a number as strtod does (decimal, hexadecimal,
// inf, nan); it returns its length, 0 when there is none.
func cjsonParseNumber(s string) (float64, int) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	rest := strings.ToLower(s[i:])
	for _, w := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(rest, w) {
			f := math.Inf(1)
			if w == "nan" {
				f = math.NaN()
			}
			if s[0] == '-' {
				f = -f
			}
			return f, i + len(w)
		}
	}
	if strings.HasPrefix(rest, "0x") {
		j := i + 2
		for j < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
			j++
		}
		if j > i+2 {
			n, err := strconv.ParseUint(s[i+2:j], 16, 64)
			f := float64(n)
			if err != nil {
				f = math.Inf(1)
			}
			if s[0] == '-' {
				f = -f
			}
			return f, j
		}
	}
	j, digits := i, 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '-' || s[k] == '+') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(strings.TrimRight(s[:j], "."), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0
		}
	}
	return f, j
}

// str reads a string token with JSON's escapes.
func (d *cjsonDecoder) str(tok cjsonToken) cjsonToken {
	var b strings.Builder
	i := d.i + 1
	for {
		if i >= len(d.s) {
			tok.kind, tok.err = tokError, "unexpected end of string"
			d.i = i
			return tok
		}
		ch := d.s[i]
		if ch == '"' {
			d.i = i + 1
			tok.kind, tok.value = tokString, lua.LString(b.String())
			return tok
		}
		if ch != '\\' {
			b.WriteByte(ch)
			i++
			continue
		}
		if i+1 >= len(d.s) {
			tok.kind, tok.err = tokError, "unexpected end of string"
			d.i = i
			return tok
		}
		esc := d.s[i+1]
		if r := strings.IndexByte(`"\/bfnrt`, esc); r >= 0 {
			b.WriteByte("\"\\/\b\f\n\r\t"[r])
			i += 2
			continue
		}
		if esc != 'u' {
			tok.kind, tok.err = tokError, "invalid escape code"
			d.i = i
			return tok
		}
		r, l := cjsonUnicode(d.s[i:])
		if l == 0 {
			tok.kind, tok.err = tokError, "invalid unicode escape code"
			d.i = i
			return tok
		}
		var buf [4]byte
		b.Write(buf[:utf8.EncodeRune(buf[:], r)])
		i += l
	}
}

// cjsonUnicode decodes "\uXXXX" (with a following low surrogate when it is a
// high one) and returns the rune and the escape's length, 0 if invalid.
func cjsonUnicode(s string) (rune, int) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:6], 16, 32)
		return rune(n), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if r >= 0xdc00 && r <= 0xdfff {
		return 0, 0
	}
	if r >= 0xd800 && r <= 0xdbff {
		lo, ok := hex4(s[6:])
		if !ok || lo < 0xdc00 || lo > 0xdfff {
			return 0, 0
		}
		return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12
	}
	return r, 6
}
