package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// testNow is the fixed clock of the Parse tests.
var testNow = time.Date(2027, 3, 14, 9, 26, 53, 0, time.UTC)

var (
	keyMu    sync.Mutex
	rsaCache = map[int]*rsa.PrivateKey{}
)

// rsaKey returns a cached RSA key per size, so the suite generates
// each one once (2048-bit generation is tens of milliseconds).
func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := rsaCache[bits]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatalf("rsa.GenerateKey(%d): %v", bits, err)
	}
	rsaCache[bits] = k
	return k
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// certSpec describes a test certificate. Zero values mean: RSA-2048 key,
// valid a year around testNow, self-signed.
type certSpec struct {
	cn        string
	pub       crypto.PublicKey
	notBefore time.Time
	notAfter  time.Time
	ca        bool
	// parent and parentKey sign the certificate; nil means self-signed
	// with signer (or the RSA-2048 key).
	parent    *x509.Certificate
	parentKey crypto.Signer
	signer    crypto.Signer
}

var serialMu sync.Mutex
var serialNext int64 = 1000

func makeCert(t testing.TB, s certSpec) *x509.Certificate {
	t.Helper()
	if s.cn == "" {
		s.cn = "entra-link test"
	}
	if s.notBefore.IsZero() {
		s.notBefore = testNow.AddDate(0, -6, 0)
	}
	if s.notAfter.IsZero() {
		s.notAfter = testNow.AddDate(0, 6, 0)
	}
	signer := s.signer
	if signer == nil {
		signer = rsaKey(t, 2048)
	}
	pub := s.pub
	if pub == nil {
		pub = signer.Public()
	}
	serialMu.Lock()
	serialNext++
	serial := big.NewInt(serialNext)
	serialMu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
	}
	if s.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	parent, parentKey := tmpl, signer
	if s.parent != nil {
		parent, parentKey = s.parent, s.parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("CreateCertificate(%s): %v", s.cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func certPEM(cs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pemOf("CERTIFICATE", c.Raw)...)
	}
	return out
}

// chain returns leaf, intermediate and root, each issued by the next, valid
// around testNow.
func chain(t testing.TB) (leaf, inter, root *x509.Certificate) {
	t.Helper()
	return chainValid(t, time.Time{}, time.Time{})
}

// chainValid is chain with an explicit validity window (zero: the default).
func chainValid(t testing.TB, from, to time.Time) (leaf, inter, root *x509.Certificate) {
	t.Helper()
	rootKey, interKey := ecKey(t), ecKey(t)
	root = makeCert(t, certSpec{cn: "Test Root", ca: true, signer: rootKey, notBefore: from, notAfter: to})
	inter = makeCert(t, certSpec{cn: "Test Intermediate", ca: true, pub: interKey.Public(), parent: root, parentKey: rootKey,
		notBefore: from, notAfter: to})
	leaf = makeCert(t, certSpec{cn: "app leaf", pub: rsaKey(t, 2048).Public(), parent: inter, parentKey: interKey,
		notBefore: from, notAfter: to})
	return leaf, inter, root
}

func ed25519Key(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
