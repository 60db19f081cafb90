package certs

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/entra-link/entra-link/internal/securefile"
)

var (
	genOnce sync.Once
	genKP   *KeyPair
	genErr  error
)

// generated is one KeyPair shared by the tests that only read it.
func generated(t *testing.T) *KeyPair {
	t.Helper()
	genOnce.Do(func() { genKP, genErr = Generate("entra-link hire2retire", 365*24*time.Hour, testNow) })
	if genErr != nil {
		t.Fatal(genErr)
	}
	return genKP
}

func TestGenerate(t *testing.T) {
	kp := generated(t)
	c := kp.Cert
	if kp.Key.N.BitLen() != 2048 {
		t.Errorf("key has %d bits, want 2048", kp.Key.N.BitLen())
	}
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&kp.Key.PublicKey) {
		t.Error("certificate key is not the generated key")
	}
	if c.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("signature algorithm %v, want SHA256-RSA", c.SignatureAlgorithm)
	}
	// CheckSignatureFrom would insist on a CA parent; a self-signed leaf
	// is checked against its own key directly.
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil || !bytes.Equal(c.RawIssuer, c.RawSubject) {
		t.Errorf("not self-signed: %v", err)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %v, want digital signature only", c.KeyUsage)
	}
	if c.IsCA {
		t.Error("generated certificate is a CA")
	}
	if kp.Subject != "CN=entra-link hire2retire" || c.Issuer.CommonName != "entra-link hire2retire" {
		t.Errorf("subject %q issuer %q", kp.Subject, c.Issuer)
	}
	if want := testNow.Add(-Backdate); !kp.NotBefore.Equal(want) {
		t.Errorf("NotBefore %v, want %v", kp.NotBefore, want)
	}
	if want := testNow.Add(365 * 24 * time.Hour); !kp.NotAfter.Equal(want) {
		t.Errorf("NotAfter %v, want %v", kp.NotAfter, want)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
		t.Errorf("serial %v out of range", c.SerialNumber)
	}
	sum := sha1.Sum(kp.DER)
	if kp.Thumbprint != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("Thumbprint %s is not the SHA-1 of the DER", kp.Thumbprint)
	}
	if kp.X5T != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("X5T %s is not base64url(SHA-1)", kp.X5T)
	}
	// What Generate makes, Parse must accept, with the same fingerprints.
	back, err := Parse(kp.PEM(), "gen.pem", testNow)
	if err != nil {
		t.Fatalf("Parse(generated) = %v", err)
	}
	if back.Thumbprint != kp.Thumbprint || back.X5TS256 != kp.X5TS256 {
		t.Errorf("round trip changed fingerprints: %s/%s vs %s/%s", back.Thumbprint, back.X5TS256, kp.Thumbprint, kp.X5TS256)
	}
}

func TestGenerateUniqueKeysAndSerials(t *testing.T) {
	a := generated(t)
	b, err := Generate("CN=entra-link hire2retire", time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if b.Subject != "CN=entra-link hire2retire" {
		t.Errorf("a CN= prefix was not stripped: %q", b.Subject)
	}
	if a.Key.Equal(b.Key) || a.Cert.SerialNumber.Cmp(b.Cert.SerialNumber) == 0 || a.Thumbprint == b.Thumbprint {
		t.Error("two generations share a key, serial or thumbprint")
	}
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		subject  string
		validity time.Duration
		says     string
	}{
		{subject: "", validity: time.Hour, says: "empty subject"},
		{subject: "  CN=  ", validity: time.Hour, says: "empty subject"},
		{subject: strings.Repeat("x", 65), validity: time.Hour, says: "longer than 64"},
		{subject: "bad\xff", validity: time.Hour, says: "UTF-8"},
		{subject: "ok", validity: 0, says: "not positive"},
		{subject: "ok", validity: -time.Hour, says: "not positive"},
	}
	for _, tt := range tests {
		kp, err := Generate(tt.subject, tt.validity, testNow)
		if err == nil || !strings.Contains(err.Error(), tt.says) || kp != nil {
			t.Errorf("Generate(%q, %v) = %v, want an error saying %q", tt.subject, tt.validity, err, tt.says)
		}
	}
	if _, err := Generate(strings.Repeat("é", 64), time.Hour, testNow); err != nil {
		t.Errorf("64 characters (128 bytes) refused: %v", err)
	}
}

func TestWriteFiles(t *testing.T) {
	kp := *generated(t) // a copy: WriteFiles sets Path
	dir := filepath.Join(t.TempDir(), "certs", "nested")
	w, err := kp.WriteFiles(dir, "hire2retire", false)
	if err != nil {
		t.Fatal(err)
	}
	want := Written{
		KeyPath:    filepath.Join(dir, "hire2retire.key.pem"),
		CertPath:   filepath.Join(dir, "hire2retire.cert.pem"),
		PFXPath:    filepath.Join(dir, "hire2retire.pfx"),
		BundlePath: filepath.Join(dir, "hire2retire.bundle.pem"),
	}
	if w != want {
		t.Fatalf("Written = %+v, want %+v", w, want)
	}
	if kp.Path != w.CertPath {
		t.Errorf("Path = %q, want the certificate file", kp.Path)
	}
	if runtime.GOOS != "windows" {
		for path, perm := range map[string]fs.FileMode{
			dir: fs.ModeDir | 0o700, w.KeyPath: 0o600, w.CertPath: 0o644, w.PFXPath: 0o600, w.BundlePath: 0o600,
		} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != perm {
				t.Errorf("%s: mode %v, want %v", path, fi.Mode(), perm)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("directory holds %d entries, want exactly the 4 files", len(entries))
	}

	// Key: PKCS#8 PEM of the same key.
	block, rest := pem.Decode(readFile(t, w.KeyPath))
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("key file is not a single PRIVATE KEY block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !kp.Key.Equal(key) {
		t.Error("key file holds a different key")
	}

	// Certificate: loads back as the same certificate.
	c, err := Load(w.CertPath, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if c.Thumbprint != kp.Thumbprint {
		t.Errorf("certificate file thumbprint %s, want %s", c.Thumbprint, kp.Thumbprint)
	}

	// PFX: decodes with go-pkcs12 and an empty password.
	pk, pc, cas, err := pkcs12.DecodeChain(readFile(t, w.PFXPath), "")
	if err != nil {
		t.Fatalf("DecodeChain: %v", err)
	}
	if !kp.Key.Equal(pk) || !bytes.Equal(pc.Raw, kp.DER) || len(cas) != 0 {
		t.Error("PFX holds a different key or certificate, or extra certificates")
	}
	if _, _, _, err := pkcs12.DecodeChain(readFile(t, w.PFXPath), "wrong"); !errors.Is(err, pkcs12.ErrIncorrectPassword) {
		t.Errorf("PFX is not password-protected as expected: DecodeChain(wrong) = %v", err)
	}

	// Bundle: what AZURE_CLIENT_CERTIFICATE_PATH can point at.
	certs, bkey, err := azidentity.ParseCertificates(readFile(t, w.BundlePath), nil)
	if err != nil {
		t.Fatalf("azidentity.ParseCertificates(bundle): %v", err)
	}
	if len(certs) != 1 || !bytes.Equal(certs[0].Raw, kp.DER) || !kp.Key.Equal(bkey) {
		t.Error("bundle holds a different key or certificate")
	}
	if _, err := azidentity.NewClientCertificateCredential("11111111-1111-1111-1111-111111111111",
		"22222222-2222-2222-2222-222222222222", certs, bkey, nil); err != nil {
		t.Errorf("azidentity refuses the bundle: %v", err)
	}

	// None of the secret-bearing files is accepted as an upload.
	for path, kind := range map[string]error{w.KeyPath: ErrPrivateKey, w.PFXPath: ErrPKCS12, w.BundlePath: ErrPrivateKey} {
		if _, err := Load(path, testNow); !errors.Is(err, kind) {
			t.Errorf("Load(%s) = %v, want %v", path, err, kind)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteFilesRefusesOverwrite(t *testing.T) {
	kp := generated(t)
	for _, existing := range []string{"app.key.pem", "app.cert.pem", "app.pfx", "app.bundle.pem"} {
		t.Run(existing, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, existing)
			if err := os.WriteFile(path, []byte("theirs"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := kp.WriteFiles(dir, "app", false)
			if !errors.Is(err, securefile.ErrExists) {
				t.Fatalf("err = %v, want securefile.ErrExists", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--force") {
				t.Errorf("message %q does not name %s and --force", err, path)
			}
			if got := string(readFile(t, path)); got != "theirs" {
				t.Errorf("existing file changed to %q", got)
			}
			// Nothing of the set was written next to it.
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the existing file", len(entries))
			}
		})
	}
}

func TestWriteFilesForce(t *testing.T) {
	dir := t.TempDir()
	first := generated(t)
	if _, err := first.WriteFiles(dir, "app", false); err != nil {
		t.Fatal(err)
	}
	// Widen a mode to check that the replacement does not inherit it.
	keyPath := filepath.Join(dir, "app.key.pem")
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	second, err := Generate("app", time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	w, err := second.WriteFiles(dir, "app", true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(w.CertPath, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if c.Thumbprint != second.Thumbprint {
		t.Error("force did not replace the certificate")
	}
	if fi, _ := os.Stat(keyPath); runtime.GOOS != "windows" && fi.Mode() != 0o600 {
		t.Errorf("replaced key has mode %v, want -rw-------", fi.Mode())
	}
}

// TestWriteFilesCleansUpOnFailure makes the last file impossible to write and
// checks that the ones written before it are removed again.
func TestWriteFilesCleansUpOnFailure(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "app.bundle.pem"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := generated(t).WriteFiles(dir, "app", true)
	if err == nil || !strings.Contains(err.Error(), "app.bundle.pem") {
		t.Fatalf("err = %v, want a failure naming app.bundle.pem", err)
	}
	for _, f := range []string{"app.key.pem", "app.cert.pem", "app.pfx"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind after a failed write", f)
		}
	}
}

func TestWriteFilesRejectsBadBase(t *testing.T) {
	dir := t.TempDir()
	for _, base := range []string{"", ".", "..", "a/b", `a\b`, "../x"} {
		if _, err := generated(t).WriteFiles(dir, base, false); err == nil {
			t.Errorf("WriteFiles(base %q) succeeded", base)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad base names wrote %d files", len(entries))
	}
}
