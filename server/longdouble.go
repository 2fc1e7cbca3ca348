package server

import (
	"math/big"
	"strings"
)

// INCRBYFLOAT and HINCRBYFLOAT compute in C's long double, which on x86-64
// is the x87 80-bit format: a 64-bit mantissa and a 15-bit exponent. Redis
// parses with strtold, adds, and prints with "%.17Lf" stripped of trailing
// zeros, so 0.1+0.2 is "0.3" but -500+0.1 is "-499.89999999999999999". A
// big.Float with 64 bits of precision and the x87 exponent range reproduces
// those bytes.

const (
	longDoublePrec   = 64
	longDoubleMaxExp = 16384  // big.Float exponent of the largest finite long double
	longDoubleMinExp = -16444 // big.Float exponent of the smallest subnormal
	longDoubleMaxLen = 5 * 1024
)

// parseLongDouble parses b as Redis's string2ld does: strtold's syntax
// (decimal, hexadecimal, inf, infinity), no spaces, no trailing bytes, no
// NaN, and no value that overflows or underflows to zero.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= longDoubleMaxLen {
		return nil, false
	}
	s := string(b)
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch lower := strings.ToLower(body); {
	case lower == "inf" || lower == "infinity":
		return new(big.Float).SetInf(s[0] == '-'), true
	case strings.HasPrefix(lower, "0x"):
		if !validHexFloat(lower[2:]) {
			return nil, false
		}
	default:
		if !validDecimalFloat(lower) {
			return nil, false
		}
	}
	// Base 0 reads the 0x prefix and the p exponent; the syntax checks above
	// have already refused what strtold refuses (underscores, 0b, 0o).
	f, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.Sign() != 0 {
		switch exp := f.MantExp(nil); {
		case exp > longDoubleMaxExp, exp < longDoubleMinExp:
			return nil, false // strtold's ERANGE: HUGE_VAL or zero
		}
	}
	return f, true
}

// validDecimalFloat reports whether s is digits[.digits][e[sign]digits]
// with at least one mantissa digit.
func validDecimalFloat(s string) bool {
	i, digits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i] == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// validHexFloat reports whether s (after "0x") is hexdigits[.hexdigits][p[sign]digits].
func validHexFloat(s string) bool {
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
	i, digits := 0, 0
	for ; i < len(s) && isHex(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isHex(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i] == 'p' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// addLongDouble returns a+b rounded to a long double; ok is false when the
// sum is infinite (an infinite operand, or an overflow).
func addLongDouble(a, b *big.Float) (sum *big.Float, ok bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	sum = new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(a, b)
	if sum.Sign() != 0 && sum.MantExp(nil) > longDoubleMaxExp {
		return nil, false
	}
	return sum, true
}

// formatLongDouble formats f as Redis's ld2string(LD_STR_HUMAN): "%.17Lf"
// without trailing zeros or a trailing point, and "-0" as "0".
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
