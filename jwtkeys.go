package sessdb

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/argon2"
)

// The JWT signing keys at rest.
//
// The whole key set is one JSON value under keyJWTKeys in the sessions'
// internal database, so it goes through the normal commit path: a rotation
// replaces it in one record, hence atomically and durably. Each private key
// is PKCS #8. When a passphrase is configured it is sealed with AES-256-GCM
// under a key derived from the passphrase by argon2id (salt and cost stored
// beside it), with the key id as associated data, so a sealed key cannot be
// moved to another id unnoticed.

// keyJWTKeys holds the key set; keyNotBefore+user a user's "not before".
const (
	keyJWTKeys   = "jwt:keys"
	keyNotBefore = "jwt:nbf:"
)

// The argon2id cost of the passphrase key: RFC 9106's second recommended
// option (64 MiB, 3 passes) with fewer lanes for small machines. The cost is
// stored with the salt, so it can change without breaking stored keys (tests
// lower it).
var (
	kdfTime    uint32 = 3
	kdfMemory  uint32 = 64 * 1024 // KiB
	kdfThreads uint8  = 2
)

// The JWT key errors.
var (
	// ErrJWTKeysEncrypted is returned by OpenJWT when the stored keys are
	// encrypted and no passphrase is given.
	ErrJWTKeysEncrypted = errors.New("sessdb: the JWT signing keys are encrypted: set jwt-key-passphrase")
	// ErrJWTPassphrase is returned by OpenJWT when the passphrase does not
	// decrypt the stored keys.
	ErrJWTPassphrase = errors.New("sessdb: the JWT key passphrase does not decrypt the stored keys")
	// ErrJWTAlg is returned for an algorithm other than EdDSA or ES256.
	ErrJWTAlg = errors.New("sessdb: jwt-alg must be EdDSA or ES256")
)

// The signing algorithms sessdb issues; never none, never HS*.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
)

// storedKeySet is the JSON form of the key set.
type storedKeySet struct {
	Version int         `json:"v"`
	KDF     *storedKDF  `json:"kdf,omitempty"`
	Current string      `json:"current"`
	Keys    []storedKey `json:"keys"`
}

type storedKDF struct {
	Name    string `json:"name"`
	Salt    []byte `json:"salt"`
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"`
	Threads uint8  `json:"p"`
}

type storedKey struct {
	KID     string `json:"kid"`
	Alg     string `json:"alg"`
	Created int64  `json:"created"`           // unix ms
	Retired int64  `json:"retired,omitempty"` // unix ms; 0 while current
	Drop    int64  `json:"drop,omitempty"`    // unix ms after which JWKS no longer lists it
	Sealed  bool   `json:"sealed,omitempty"`  // Priv is nonce || AES-GCM(PKCS #8)
	Priv    []byte `json:"priv"`
}

// signingKey is a key in memory.
type signingKey struct {
	kid     string
	alg     string
	created int64
	retired int64
	drop    int64
	priv    crypto.Signer
	pub     crypto.PublicKey
	jwk     jose.JSONWebKey // the public JWK
}

// listed reports whether JWKS lists the key at now (unix ms).
func (k *signingKey) listed(now int64) bool { return k.drop == 0 || now < k.drop }

// generateKey makes a new key for alg; its id is its RFC 7638 thumbprint.
func generateKey(alg string, now int64) (*signingKey, error) {
	var priv crypto.Signer
	switch alg {
	case AlgEdDSA:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		priv = p
	case AlgES256:
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		priv = p
	default:
		return nil, ErrJWTAlg
	}
	return newSigningKey("", alg, now, priv)
}

// newSigningKey completes a key from its private half; an empty kid is
// computed as the key's thumbprint.
func newSigningKey(kid, alg string, created int64, priv crypto.Signer) (*signingKey, error) {
	pub := priv.Public()
	jwk := jose.JSONWebKey{Key: pub, Algorithm: alg, Use: "sig"}
	if kid == "" {
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, err
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	jwk.KeyID = kid
	return &signingKey{kid: kid, alg: alg, created: created, priv: priv, pub: pub, jwk: jwk}, nil
}

// keyCipher seals and opens private keys under the passphrase.
type keyCipher struct {
	kdf  storedKDF
	aead cipher.AEAD
}

func newKeyCipher(passphrase string, kdf *storedKDF) (*keyCipher, error) {
	if kdf == nil {
		kdf = &storedKDF{Name: "argon2id", Salt: make([]byte, 16), Time: kdfTime, Memory: kdfMemory, Threads: kdfThreads}
		if _, err := rand.Read(kdf.Salt); err != nil {
			return nil, err
		}
	}
	if kdf.Name != "argon2id" || len(kdf.Salt) < 16 || kdf.Time == 0 || kdf.Memory == 0 || kdf.Threads == 0 {
		return nil, fmt.Errorf("sessdb: unsupported JWT key encryption %q", kdf.Name)
	}
	k := argon2.IDKey([]byte(passphrase), kdf.Salt, kdf.Time, kdf.Memory, kdf.Threads, 32)
	block, err := aes.NewCipher(k)
	clear(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keyCipher{kdf: *kdf, aead: aead}, nil
}

func (c *keyCipher) seal(kid string, plain []byte) []byte {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("sessdb: crypto/rand: " + err.Error())
	}
	return c.aead.Seal(nonce, nonce, plain, []byte(kid))
}

func (c *keyCipher) open(kid string, sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrJWTPassphrase
	}
	plain, err := c.aead.Open(nil, sealed[:n], sealed[n:], []byte(kid))
	if err != nil {
		return nil, ErrJWTPassphrase
	}
	return plain, nil
}

// encodeKeySet serialises keys (current first is not required) with c, or
// in plain PKCS #8 when c is nil.
func encodeKeySet(keys []*signingKey, current string, c *keyCipher) ([]byte, error) {
	st := storedKeySet{Version: 1, Current: current}
	if c != nil {
		kdf := c.kdf
		st.KDF = &kdf
	}
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return nil, err
		}
		sk := storedKey{KID: k.kid, Alg: k.alg, Created: k.created, Retired: k.retired, Drop: k.drop, Priv: der}
		if c != nil {
			sk.Sealed = true
			sk.Priv = c.seal(k.kid, der)
			clear(der)
		}
		st.Keys = append(st.Keys, sk)
	}
	return json.Marshal(st)
}

// decodeKeySet parses a stored key set. It reports whether the stored keys
// were sealed, so that OpenJWT can seal plain ones once a passphrase is set.
func decodeKeySet(b []byte, passphrase string) (keys []*signingKey, current string, c *keyCipher, sealed bool, err error) {
	var st storedKeySet
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, "", nil, false, fmt.Errorf("sessdb: corrupt JWT key set: %w", err)
	}
	if st.KDF != nil {
		if passphrase == "" {
			return nil, "", nil, true, ErrJWTKeysEncrypted
		}
		if c, err = newKeyCipher(passphrase, st.KDF); err != nil {
			return nil, "", nil, true, err
		}
	}
	for _, sk := range st.Keys {
		der := sk.Priv
		if sk.Sealed {
			if c == nil {
				return nil, "", nil, true, ErrJWTKeysEncrypted
			}
			if der, err = c.open(sk.KID, sk.Priv); err != nil {
				return nil, "", nil, true, err
			}
		}
		p, perr := x509.ParsePKCS8PrivateKey(der)
		if sk.Sealed {
			clear(der)
		}
		if perr != nil {
			return nil, "", nil, st.KDF != nil, fmt.Errorf("sessdb: corrupt JWT key %s: %w", sk.KID, perr)
		}
		signer, ok := p.(crypto.Signer)
		if !ok || !algMatches(sk.Alg, signer) {
			return nil, "", nil, st.KDF != nil, fmt.Errorf("sessdb: JWT key %s does not match its algorithm %q", sk.KID, sk.Alg)
		}
		k, err := newSigningKey(sk.KID, sk.Alg, sk.Created, signer)
		if err != nil {
			return nil, "", nil, st.KDF != nil, err
		}
		k.retired, k.drop = sk.Retired, sk.Drop
		keys = append(keys, k)
	}
	return keys, st.Current, c, st.KDF != nil, nil
}

func algMatches(alg string, s crypto.Signer) bool {
	switch k := s.(type) {
	case ed25519.PrivateKey:
		return alg == AlgEdDSA
	case *ecdsa.PrivateKey:
		return alg == AlgES256 && k.Curve == elliptic.P256()
	}
	return false
}
