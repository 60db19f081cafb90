package certs

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// fuzzNow is the clock of FuzzParse; the seed certificates are valid then.
var fuzzNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// FuzzParse feeds arbitrary bytes to Parse. Whatever comes in, Parse must not
// panic, and it must either return a certificate that meets every promise
// of the package or an *InvalidError that names the file.
func FuzzParse(f *testing.F) {
	// The seed corpus lives in testdata/fuzz/FuzzParse (see
	// TestUpdateFuzzSeeds); these few cover the formats cheaply as well.
	f.Add([]byte(""))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.cer"
		c, err := Parse(data, name, fuzzNow)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Kind == nil || inv.Name != name {
				t.Fatalf("error is not a well-formed *InvalidError: %#v", err)
			}
			if !strings.HasPrefix(err.Error(), "certificate "+name+": ") {
				t.Fatalf("message does not name the file: %q", err)
			}
			if c != nil {
				t.Fatal("certificate returned together with an error")
			}
			return
		}
		sum := sha1.Sum(c.DER)
		if c.Thumbprint != strings.ToUpper(hex.EncodeToString(sum[:])) || c.X5T != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatal("fingerprints do not match the DER")
		}
		pub, ok := c.Cert.PublicKey.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < MinRSABits {
			t.Fatalf("accepted a %T key", c.Cert.PublicKey)
		}
		if fuzzNow.Before(c.NotBefore) || fuzzNow.After(c.NotAfter) {
			t.Fatal("accepted a certificate that is not valid now")
		}
		again, err := x509.ParseCertificate(c.DER)
		if err != nil || !bytes.Equal(again.Raw, c.Cert.Raw) {
			t.Fatalf("DER does not parse back: %v", err)
		}
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Fatal("accepted a file with a private key block")
		}
	})
}

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzParse")

// TestUpdateFuzzSeeds regenerates the committed seed corpus:
//
//	go test ./internal/certs -run TestUpdateFuzzSeeds -update-fuzz-seeds
//
// The seeds hold no private key: keys are only used to sign, the PFX seed
// is a certificate-only trust store, and the private-key seed is a PEM block
// with a dummy body (Parse refuses it on the block type alone).
func TestUpdateFuzzSeeds(t *testing.T) {
	if !*updateFuzzSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite the seed corpus")
	}
	from, to := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2120, 1, 1, 0, 0, 0, 0, time.UTC)
	good := makeCert(t, certSpec{cn: "seed", notBefore: from, notAfter: to})
	leaf, inter, root := chainValid(t, from, to)
	ec := makeCert(t, certSpec{cn: "seed ec", signer: ecKey(t), notBefore: from, notAfter: to})
	small := makeCert(t, certSpec{cn: "seed 1024", pub: rsaKey(t, 1024).Public(), notBefore: from, notAfter: to})
	expired := makeCert(t, certSpec{cn: "seed expired", notBefore: from, notAfter: from.AddDate(1, 0, 0)})
	trust, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{good}, "")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "seed"}}, rsaKey(t, 2048))
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(rsaKey(t, 2048).Public())
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"pem":             certPEM(good),
		"der":             good.Raw,
		"bare-base64":     []byte(base64.StdEncoding.EncodeToString(good.Raw)),
		"chain":           certPEM(leaf, inter, root),
		"chain-reversed":  certPEM(root, inter, leaf),
		"ecdsa":           certPEM(ec),
		"rsa1024":         small.Raw,
		"expired":         certPEM(expired),
		"pfx-truststore":  trust,
		"private-key-pem": []byte("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"),
		"csr":             pemOf("CERTIFICATE REQUEST", csr),
		"public-key":      pemOf("PUBLIC KEY", spki),
		"garbage":         []byte("this is not a certificate\x00\xff"),
		"empty":           {},
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzSeedsStillMeanSomething guards the committed corpus: the seeds
// that should parse do, and each refusal seed is refused for its reason, so
// the corpus keeps reaching the interesting branches.
func TestFuzzSeedsStillMeanSomething(t *testing.T) {
	want := map[string]error{
		"pem": nil, "der": nil, "bare-base64": nil, "chain": nil,
		"chain-reversed": ErrNotChain, "ecdsa": ErrKeyType, "rsa1024": ErrKeyTooSmall,
		"expired": ErrExpired, "pfx-truststore": ErrPKCS12, "private-key-pem": ErrPrivateKey,
		"csr": ErrNotCertificate, "public-key": ErrNotCertificate, "garbage": ErrNotCertificate, "empty": ErrEmpty,
	}
	for name, kind := range want {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParse", name))
		if err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
		data := decodeSeed(t, raw)
		_, err = Parse(data, name, fuzzNow)
		if kind == nil && err != nil {
			t.Errorf("seed %s: %v", name, err)
		}
		if kind != nil && !errors.Is(err, kind) {
			t.Errorf("seed %s: err = %v, want %v", name, err, kind)
		}
	}
}

// decodeSeed reads the one []byte value of a "go test fuzz v1" file.
func decodeSeed(t *testing.T, raw []byte) []byte {
	t.Helper()
	s := strings.TrimSpace(string(raw))
	s = strings.TrimPrefix(s, "go test fuzz v1\n")
	if !strings.HasPrefix(s, "[]byte(") || !strings.HasSuffix(s, ")") {
		t.Fatalf("not a []byte seed: %.40q", s)
	}
	v, err := strconv.Unquote(s[len("[]byte(") : len(s)-1])
	if err != nil {
		t.Fatal(err)
	}
	return []byte(v)
}
