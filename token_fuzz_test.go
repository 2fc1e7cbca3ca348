package sessdb

import (
	"strings"
	"testing"
)

// Ensure that parseToken never panics, accepts only the exact shape
// <22 base64url>.<43 base64url> in its one canonical spelling (so that no
// second string authenticates as the same token), and that what it accepts
// encodes back to the token.
func FuzzParseToken(f *testing.F) {
	f.Add("kq3T0r6yXv9kq2dHc1Q1oA.cN2y6a1YV2Jm6m5x8Pq7b0ZsJb3d4Vv1oWm0n9e8T7s")
	f.Add("kq3T0r6yXv9kq2dHc1Q1oA.cN2y6a1YV2Jm6m5x8Pq7b0ZsJb3d4Vv1oWm0n9e8T7t") // non-zero padding bits
	f.Add("kq3T0r6yXv9kq2dHc1Q1oA=cN2y6a1YV2Jm6m5x8Pq7b0ZsJb3d4Vv1oWm0n9e8T7s")
	f.Add("kq3T0r6yXv9kq2dHc1Q1o+.cN2y6a1YV2Jm6m5x8Pq7b0ZsJb3d4Vv1oWm0n9e8T7s")
	f.Add("")
	f.Add(".")
	f.Add(strings.Repeat("A", tokenLen))
	f.Fuzz(func(t *testing.T, token string) {
		id, secret, ok := parseToken(token)
		if !ok {
			if id != "" {
				t.Fatalf("rejected %q but returned id %q", token, id)
			}
			return
		}
		if len(token) != tokenLen || token[idLen] != '.' {
			t.Fatalf("accepted %q of the wrong shape", token)
		}
		if id != token[:idLen] || !validID(id) {
			t.Fatalf("accepted %q with id %q", token, id)
		}
		raw, err := b64.DecodeString(id)
		if err != nil {
			t.Fatalf("id %q of accepted %q does not decode: %v", id, token, err)
		}
		if again := b64.EncodeToString(raw) + "." + b64.EncodeToString(secret[:]); again != token {
			t.Fatalf("accepted %q, which is not canonical: it encodes back as %q", token, again)
		}
	})
}
