package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is the SHA-1 thumbprint by definition
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// graphAudience is the audience of an addKey/removeKey proof: the legacy
// Azure AD Graph's application id, as Graph's documentation requires.
const graphAudience = "00000002-0000-0000-c000-000000000000"

// proofLifetime is the longest a proof may be valid (nbf to exp).
const proofLifetime = 10 * time.Minute

// Signer is a certificate with the private key that signs as it: the
// certificate an app signed in with, which proves possession to addKey and
// removeKey.
type Signer struct {
	Cert *x509.Certificate
	// Key is the private key. Never log it or put it in an error.
	Key crypto.Signer
}

// Thumbprint is the certificate's SHA-1 thumbprint, upper-case hex, as
// Entra shows it.
func (s *Signer) Thumbprint() string {
	return newCertificate(s.Cert, "").Thumbprint
}

// Proof is the proof-of-possession token addKey and removeKey ask for: a
// JWT signed RS256 with the key of one of the app's valid certificates,
// issued by the app's object id for the legacy Graph audience, valid ten
// minutes from now (endpoints.md §1.7).
func (s *Signer) Proof(appObjectID string, now time.Time) (string, error) {
	if s == nil || s.Cert == nil || s.Key == nil {
		return "", errors.New("no certificate to sign the proof with")
	}
	if _, ok := s.Key.Public().(*rsa.PublicKey); !ok {
		return "", errors.New("the certificate's key is not an RSA key; Entra takes proofs signed RS256 only")
	}
	t1 := sha1.Sum(s.Cert.Raw) //nolint:gosec // see import
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(t1[:])})
	if err != nil {
		return "", err
	}
	nbf := now.Unix()
	claims, err := json.Marshal(map[string]any{
		"aud": graphAudience, "iss": appObjectID, "nbf": nbf, "exp": nbf + int64(proofLifetime/time.Second),
	})
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := s.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", errors.New("signing the proof failed")
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
