package certs

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func TestParse(t *testing.T) {
	rsa2048 := rsaKey(t, 2048)
	good := makeCert(t, certSpec{cn: "app"})
	leaf, inter, root := chain(t)
	other := makeCert(t, certSpec{cn: "unrelated", signer: ecKey(t), pub: rsa2048.Public()})

	pkcs8, err := x509.MarshalPKCS8PrivateKey(rsa2048)
	if err != nil {
		t.Fatal(err)
	}
	ec := ecKey(t)
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	encPKCS8, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}{pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.NullRawValue}, bytes.Repeat([]byte{7}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	pfxModern, err := pkcs12.Modern.Encode(rsa2048, good, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	pfxLegacy, err := pkcs12.LegacyDES.Encode(rsa2048, good, nil, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	pfxTrust, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{good}, "")
	if err != nil {
		t.Fatal(err)
	}
	p7, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{oidSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 0x00}}})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "app"}}, rsa2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(rsa2048.Public())
	if err != nil {
		t.Fatal(err)
	}
	expired := makeCert(t, certSpec{notBefore: testNow.AddDate(-2, 0, 0), notAfter: testNow.Add(-time.Second)})
	future := makeCert(t, certSpec{notBefore: testNow.Add(time.Second), notAfter: testNow.AddDate(1, 0, 0)})
	ecCert := makeCert(t, certSpec{signer: ec})
	edCert := makeCert(t, certSpec{signer: ed25519Key(t)})
	rsa1024 := makeCert(t, certSpec{pub: rsaKey(t, 1024).Public(), signer: rsa2048})
	rsa2047 := makeCert(t, certSpec{pub: rsaKey(t, 2047).Public(), signer: rsa2048})
	random := make([]byte, 512)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		data []byte
		want *x509.Certificate // the certificate that must come back
		kind error             // or the refusal
		says []string          // words the message must contain
	}{
		{name: "PEM", data: certPEM(good), want: good},
		{name: "DER", data: good.Raw, want: good},
		{name: "PEM with CRLF, BOM and openssl -text preamble",
			data: append([]byte("\ufeffCertificate:\r\n    Data: ...\r\n"), bytes.ReplaceAll(certPEM(good), []byte("\n"), []byte("\r\n"))...), want: good},
		{name: "bare base64", data: []byte(base64.StdEncoding.EncodeToString(good.Raw) + "\n"), want: good},
		{name: "X509 CERTIFICATE block", data: pemOf("X509 CERTIFICATE", good.Raw), want: good},
		{name: "TRUSTED CERTIFICATE with aux data", data: pemOf("TRUSTED CERTIFICATE", append(bytes.Clone(good.Raw), 0x30, 0x00)), want: good},
		{name: "chain leaf first", data: certPEM(leaf, inter, root), want: leaf},
		{name: "chain leaf and issuer", data: certPEM(leaf, inter), want: leaf},
		{name: "certificate with unrelated PEM block", data: append(certPEM(good), pemOf("X509 CRL", []byte{1})...), want: good},

		{name: "chain root first", data: certPEM(root, inter, leaf), kind: ErrNotChain, says: []string{"3 certificates", "Test Root", "not issued by"}},
		{name: "two unrelated certificates", data: certPEM(good, other), kind: ErrNotChain, says: []string{"2 certificates", "alone"}},
		{name: "PEM certificate plus private key", data: append(certPEM(good), pemOf("PRIVATE KEY", pkcs8)...), kind: ErrPrivateKey,
			says: []string{"contains a private key", "public part", ".cer"}},
		{name: "PEM private key first", data: append(pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048)), certPEM(good)...), kind: ErrPrivateKey},
		{name: "PEM encrypted private key", data: pemOf("ENCRYPTED PRIVATE KEY", encPKCS8), kind: ErrPrivateKey},
		{name: "PEM OpenSSH private key", data: pemOf("OPENSSH PRIVATE KEY", []byte("openssh-key-v1\x00")), kind: ErrPrivateKey},
		{name: "DER PKCS#8 key", data: pkcs8, kind: ErrPrivateKey, says: []string{"private key"}},
		{name: "DER PKCS#1 key", data: x509.MarshalPKCS1PrivateKey(rsa2048), kind: ErrPrivateKey},
		{name: "DER EC key", data: ecDER, kind: ErrPrivateKey},
		{name: "DER encrypted PKCS#8 key", data: encPKCS8, kind: ErrPrivateKey},
		{name: "bare base64 of a private key", data: []byte(base64.StdEncoding.EncodeToString(pkcs8)), kind: ErrPrivateKey},
		{name: "PFX modern, empty password", data: pfxModern, kind: ErrPKCS12, says: []string{"PKCS#12/PFX", "openssl pkcs12"}},
		{name: "PFX legacy, password", data: pfxLegacy, kind: ErrPKCS12},
		{name: "PFX trust store without key", data: pfxTrust, kind: ErrPKCS12},
		{name: "PKCS#7 bundle", data: p7, kind: ErrNotCertificate, says: []string{"PKCS#7"}},
		{name: "PEM PKCS#7 bundle", data: pemOf("PKCS7", p7), kind: ErrNotCertificate, says: []string{"PKCS#7"}},
		{name: "CSR PEM", data: pemOf("CERTIFICATE REQUEST", csr), kind: ErrNotCertificate, says: []string{"signing request"}},
		{name: "CSR DER", data: csr, kind: ErrNotCertificate, says: []string{"signing request"}},
		{name: "public key PEM", data: pemOf("PUBLIC KEY", spki), kind: ErrNotCertificate, says: []string{"public key, not a certificate"}},
		{name: "public key DER", data: spki, kind: ErrNotCertificate, says: []string{"public key"}},
		{name: "expired", data: certPEM(expired), kind: ErrExpired,
			says: []string{"expired on " + expired.NotAfter.UTC().Format(timeLayout), expired.NotBefore.UTC().Format(timeLayout)}},
		{name: "not yet valid", data: certPEM(future), kind: ErrNotYetValid,
			says: []string{"not valid until " + future.NotBefore.UTC().Format(timeLayout), future.NotAfter.UTC().Format(timeLayout)}},
		{name: "expired certificate in a chain", data: certPEM(expired, other), kind: ErrNotChain},
		{name: "ECDSA", data: certPEM(ecCert), kind: ErrKeyType, says: []string{"ECDSA P-256", "RSA keys only"}},
		{name: "Ed25519", data: certPEM(edCert), kind: ErrKeyType, says: []string{"Ed25519", "RSA keys only"}},
		{name: "RSA-1024", data: certPEM(rsa1024), kind: ErrKeyTooSmall, says: []string{"1024 bits", "at least 2048"}},
		{name: "RSA-2047", data: rsa2047.Raw, kind: ErrKeyTooSmall, says: []string{"2047 bits"}},
		{name: "empty", data: nil, kind: ErrEmpty, says: []string{"empty"}},
		{name: "whitespace only", data: []byte(" \r\n\t\n"), kind: ErrEmpty},
		{name: "garbage text", data: []byte("hello, this is not a certificate\n"), kind: ErrNotCertificate, says: []string{"not a certificate", "BEGIN CERTIFICATE"}},
		{name: "garbage binary", data: random, kind: ErrNotCertificate},
		{name: "truncated DER", data: good.Raw[:len(good.Raw)/2], kind: ErrNotCertificate},
		{name: "DER with a flipped byte", data: flip(good.Raw, 1), kind: ErrNotCertificate},
		{name: "PEM without END line", data: bytes.Split(certPEM(good), []byte("-----END"))[0], kind: ErrNotCertificate, says: []string{"damaged"}},
		{name: "PEM with broken body", data: pemOf("CERTIFICATE", good.Raw[:100]), kind: ErrNotCertificate, says: []string{"PEM block 1"}},
		{name: "PEM with only other blocks", data: pemOf("X509 CRL", []byte{1}), kind: ErrNotCertificate, says: []string{"X509 CRL"}},
		{name: "PEM with many other blocks", data: manyBlocks(), kind: ErrNotCertificate, says: []string{"type T0, T1, T2, T3, T4, ...)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const name = "downloads/hire2retire.cer"
			got, err := Parse(tt.data, name, testNow)
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				assertCertificate(t, got, tt.want)
				if got.Path != name {
					t.Errorf("Path = %q, want %q", got.Path, name)
				}
				return
			}
			if got != nil {
				t.Errorf("got a certificate (%s) together with an error", got.Subject)
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v (%T), want *InvalidError", err, err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("err kind = %v, want %v", inv.Kind, tt.kind)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "certificate "+name+": ") {
				t.Errorf("message %q does not start by naming the file", msg)
			}
			for _, s := range tt.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
			assertNoKeyMaterial(t, msg, pkcs8)
		})
	}
}

// manyBlocks is a PEM file of 4000 blocks of 8 types, none a certificate.
func manyBlocks() []byte {
	var out []byte
	for i := range 4000 {
		out = append(out, pemOf("T"+strconv.Itoa(i%8), []byte{1})...)
	}
	return out
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0xff
	return out
}

// assertCertificate checks every derived field against want.
func assertCertificate(t *testing.T, got *Certificate, want *x509.Certificate) {
	t.Helper()
	if !bytes.Equal(got.DER, want.Raw) || !bytes.Equal(got.Cert.Raw, want.Raw) {
		t.Fatalf("got certificate %s, want %s", got.Subject, want.Subject)
	}
	s1 := sha1.Sum(want.Raw)
	s256 := sha256.Sum256(want.Raw)
	if wantTP := strings.ToUpper(hex.EncodeToString(s1[:])); got.Thumbprint != wantTP || len(got.Thumbprint) != 40 {
		t.Errorf("Thumbprint = %q, want %q", got.Thumbprint, wantTP)
	}
	if !bytes.Equal(got.CustomKeyIdentifier(), s1[:]) {
		t.Errorf("CustomKeyIdentifier = %x, want %x", got.CustomKeyIdentifier(), s1)
	}
	if w := base64.RawURLEncoding.EncodeToString(s1[:]); got.X5T != w {
		t.Errorf("X5T = %q, want %q", got.X5T, w)
	}
	if w := base64.RawURLEncoding.EncodeToString(s256[:]); got.X5TS256 != w {
		t.Errorf("X5TS256 = %q, want %q", got.X5TS256, w)
	}
	if !got.NotBefore.Equal(want.NotBefore) || !got.NotAfter.Equal(want.NotAfter) {
		t.Errorf("validity %v..%v, want %v..%v", got.NotBefore, got.NotAfter, want.NotBefore, want.NotAfter)
	}
	if got.NotBefore.Location() != time.UTC || got.NotAfter.Location() != time.UTC {
		t.Errorf("validity not in UTC: %v", got.NotBefore.Location())
	}
	if got.Subject != "CN="+want.Subject.CommonName {
		t.Errorf("Subject = %q, want CN=%s", got.Subject, want.Subject.CommonName)
	}
}

// assertNoKeyMaterial fails if any 16-byte run of the key, raw or base64,
// shows up in msg.
func assertNoKeyMaterial(t *testing.T, msg string, key []byte) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString(key)
	for i := 0; i+16 <= len(b64); i += 8 {
		if strings.Contains(msg, b64[i:i+16]) {
			t.Fatalf("message contains key material: %q", msg)
		}
	}
	for i := 0; i+16 <= len(key); i += 8 {
		if strings.Contains(msg, string(key[i:i+16])) {
			t.Fatalf("message contains raw key bytes")
		}
	}
}

func TestParseDoesNotAliasInput(t *testing.T) {
	good := makeCert(t, certSpec{})
	data := bytes.Clone(good.Raw)
	c, err := Parse(data, "x.cer", testNow)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0
	}
	if !bytes.Equal(c.DER, good.Raw) {
		t.Fatal("Certificate.DER changed when the caller reused its buffer")
	}
}

func TestValidityBoundaries(t *testing.T) {
	c := makeCert(t, certSpec{notBefore: testNow, notAfter: testNow.Add(time.Second)})
	for _, tt := range []struct {
		now  time.Time
		kind error
	}{
		{now: testNow.Add(-time.Second), kind: ErrNotYetValid},
		{now: testNow},
		{now: testNow.Add(time.Second)},
		{now: testNow.Add(2 * time.Second), kind: ErrExpired},
	} {
		_, err := Parse(c.Raw, "c.cer", tt.now)
		if tt.kind == nil && err != nil {
			t.Errorf("at %v: %v", tt.now, err)
		}
		if tt.kind != nil && !errors.Is(err, tt.kind) {
			t.Errorf("at %v: err = %v, want %v", tt.now, err, tt.kind)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := makeCert(t, certSpec{})
	cer := filepath.Join(dir, "product.CER")
	if err := os.WriteFile(cer, good.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cer, testNow)
	if err != nil {
		t.Fatal(err)
	}
	assertCertificate(t, c, good)
	if c.Path != cer {
		t.Errorf("Path = %q, want %q", c.Path, cer)
	}

	missing := filepath.Join(dir, "missing.cer")
	_, err = Load(missing, testNow)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v, want a not-exist error naming the file", err)
	}

	_, err = Load(dir, testNow)
	if !errors.Is(err, ErrNotCertificate) || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Load(dir) = %v, want a refusal saying it is a directory", err)
	}

	big := filepath.Join(dir, "big.pem")
	data := append(certPEM(good), bytes.Repeat([]byte("\n"), MaxFileSize)...)
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, testNow); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Errorf("Load(big) = %v, want ErrTooLarge naming the file", err)
	}
	// Just under the limit is still read.
	if err := os.WriteFile(big, data[:MaxFileSize], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, testNow); err != nil {
		t.Errorf("Load(%d bytes) = %v", MaxFileSize, err)
	}
}
