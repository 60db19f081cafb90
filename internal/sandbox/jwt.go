package sandbox

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as SHA-1 over the certificate (RFC 7515 §4.1.7).
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// jwtToken is a decoded (not yet verified) compact JWS.
type jwtToken struct {
	Header    map[string]any
	Claims    map[string]any
	signed    string // header.payload
	signature []byte
}

// parseJWT splits and decodes a compact JWS without checking its signature.
func parseJWT(s string) (*jwtToken, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, errors.New("token is not a compact JWS")
	}
	var t jwtToken
	if err := decodeSegment(parts[0], &t.Header); err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	if err := decodeSegment(parts[1], &t.Claims); err != nil {
		return nil, fmt.Errorf("decode claims: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("decode signature: %w", err)
	}
	t.signed = parts[0] + "." + parts[1]
	t.signature = sig
	return &t, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(v)
}

// verify checks the signature with pub for the token's alg (RS256 or PS256).
func (t *jwtToken) verify(pub *rsa.PublicKey) error {
	sum := sha256.Sum256([]byte(t.signed))
	switch t.alg() {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], t.signature)
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], t.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		return fmt.Errorf("unsupported alg %q", t.alg())
	}
}

func (t *jwtToken) alg() string { s, _ := t.Header["alg"].(string); return s }

func (t *jwtToken) str(claim string) string { s, _ := t.Claims[claim].(string); return s }

func (t *jwtToken) headerStr(h string) string { s, _ := t.Header[h].(string); return s }

// num returns a numeric claim (exp, nbf, iat) and whether it was present.
func (t *jwtToken) num(claim string) (int64, bool) {
	switch v := t.Claims[claim].(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		if f, err := v.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(v), true
	case string:
		n := json.Number(v)
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	}
	return 0, false
}

// strings returns a claim that is a list of strings (roles, wids).
func (t *jwtToken) strings(claim string) []string {
	arr, _ := t.Claims[claim].([]any)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// signJWT produces an RS256 compact JWS.
func signJWT(key *rsa.PrivateKey, header, claims map[string]any) (string, error) {
	h := map[string]any{"typ": "JWT", "alg": "RS256"}
	for k, v := range header {
		h[k] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("marshal header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("marshal claims: %w", err)
	}
	signed := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// certThumbprints returns the SHA-1 and SHA-256 thumbprints of a DER
// certificate (x5t and x5t#S256 carry these).
func certThumbprints(der []byte) (sha1Sum, sha256Sum []byte) {
	a := sha1.Sum(der) //nolint:gosec // see import comment
	b := sha256.Sum256(der)
	return a[:], b[:]
}

// decodeThumbprint decodes an x5t header value. RFC 7515 says base64url,
// but MSAL Go sends standard base64 with padding; Entra accepts both.
func decodeThumbprint(s string) []byte {
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return nil
}

func rsaPublicKey(cert *x509.Certificate) (*rsa.PublicKey, bool) {
	k, ok := cert.PublicKey.(*rsa.PublicKey)
	return k, ok
}
