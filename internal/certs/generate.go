package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entra-link/entra-link/internal/securefile"
)

// GeneratedKeyBits is the RSA modulus size of generated keys: the smallest
// Entra accepts, which every consumer (Java, .NET, OpenSSL, MSAL) handles.
const GeneratedKeyBits = 2048

// Backdate is how far before "now" a generated certificate becomes valid, so
// a consumer or token service whose clock is a little behind ours does not
// see a certificate from the future.
const Backdate = 5 * time.Minute

// maxCommonName is the X.520 upper bound for a common name; some tools refuse
// longer ones.
const maxCommonName = 64

// KeyPair is a generated certificate with its private key.
type KeyPair struct {
	Certificate
	// Key is the private key. Never log it or put it in an error.
	Key *rsa.PrivateKey
	// PFXPassword protects the PFX that WriteFiles writes ("" for none;
	// see ReadPasswordFile). Never log it or put it in an error.
	PFXPassword string
}

// Generate creates a self-signed certificate for subject (the common name,
// e.g. "entra-link hire2retire"; a leading "CN=" is accepted) with a new
// RSA-2048 key, signed SHA256WithRSA, with key usage digital signature,
// valid from now minus Backdate until now plus validity.
func Generate(subject string, validity time.Duration, now time.Time) (*KeyPair, error) {
	cn := strings.TrimSpace(subject)
	if len(cn) >= 3 && strings.EqualFold(cn[:3], "CN=") {
		cn = strings.TrimSpace(cn[3:])
	}
	switch {
	case cn == "":
		return nil, errors.New("generate certificate: empty subject")
	case !utf8.ValidString(cn):
		return nil, errors.New("generate certificate: subject is not valid UTF-8")
	case utf8.RuneCountInString(cn) > maxCommonName:
		return nil, fmt.Errorf("generate certificate: subject %q is longer than %d characters", cn, maxCommonName)
	case validity <= 0:
		return nil, fmt.Errorf("generate certificate: validity %v is not positive", validity)
	}
	key, err := rsa.GenerateKey(rand.Reader, GeneratedKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate certificate: RSA key: %w", err)
	}
	// 127 random bits: positive, non-zero in practice, and within the
	// 20-octet limit of RFC 5280.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate certificate: serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-Backdate).UTC(),
		NotAfter:              now.Add(validity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("generate certificate: sign: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("generate certificate: parse what was generated: %w", err)
	}
	return &KeyPair{Certificate: *newCertificate(c, ""), Key: key}, nil
}

// PrivateKeyPEM is the private key as a PKCS#8 "PRIVATE KEY" PEM block.
func (k *KeyPair) PrivateKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PFX is key and certificate as PKCS#12, protected by k.PFXPassword (empty
// when none was given), encrypted with go-pkcs12's Modern encoder
// (AES-256-CBC, PBKDF2/HMAC-SHA-256), which OpenSSL 1.1.1+, Java 12+ and
// Windows Server 2019+ read. Readers of the legacy encoding only (3DES,
// SHA-1), azidentity.ParseCertificates (x/crypto/pkcs12) among them,
// cannot: they get the PEM bundle instead. Decode it with go-pkcs12.
func (k *KeyPair) PFX() ([]byte, error) {
	pfx, err := pkcs12.Modern.Encode(k.Key, k.Cert, nil, k.PFXPassword)
	if err != nil {
		return nil, fmt.Errorf("encoding the PFX: %w", err)
	}
	return pfx, nil
}

// Written lists the files WriteFiles created.
type Written struct {
	// KeyPath is the PKCS#8 PEM private key (0600).
	KeyPath string
	// CertPath is the PEM certificate (0644).
	CertPath string
	// PFXPath is the PKCS#12 bundle of both, protected by PFXPassword
	// (0600).
	PFXPath string
	// BundlePath is certificate and PKCS#8 key in one PEM file (0600): the
	// only one of these files that azidentity (AZURE_CLIENT_CERTIFICATE_PATH,
	// ParseCertificates) reads, since it wants both in one file and cannot
	// decode the Modern PFX.
	BundlePath string
}

// FileNames are the files WriteFiles writes for dir and base, so that a
// caller can check them before anything is generated.
func FileNames(dir, base string) Written {
	if dir == "" {
		dir = "."
	}
	return Written{
		KeyPath:    filepath.Join(dir, base+".key.pem"),
		CertPath:   filepath.Join(dir, base+".cert.pem"),
		PFXPath:    filepath.Join(dir, base+".pfx"),
		BundlePath: filepath.Join(dir, base+".bundle.pem"),
	}
}

// WriteFiles writes DIR/<base>.key.pem (PKCS#8 PEM, 0600),
// DIR/<base>.cert.pem (0644), DIR/<base>.pfx (key and certificate,
// protected by k.PFXPassword, 0600) and DIR/<base>.bundle.pem (certificate then key, 0600),
// creating dir with mode 0700 if it is missing. Each file is written
// atomically through securefile. Unless force, nothing is written if any of
// them exists. If a write fails part way, the files written by
// this call are removed again, so a key never survives without its matching
// certificate or the other way round. k.Path is set to the certificate file.
func (k *KeyPair) WriteFiles(dir, base string, force bool) (Written, error) {
	if base == "" || base == "." || base == ".." || strings.ContainsAny(base, `/\`) || filepath.Base(base) != base {
		return Written{}, fmt.Errorf("cannot write the key pair: %q is not a plain file name", base)
	}
	if dir == "" {
		dir = "."
	}
	w := FileNames(dir, base)
	// Encode everything first: an encoding failure must not leave half a set.
	keyPEM, err := k.PrivateKeyPEM()
	if err != nil {
		return Written{}, fmt.Errorf("cannot write the key pair: %w", err)
	}
	pfx, err := k.PFX()
	if err != nil {
		return Written{}, fmt.Errorf("cannot write the key pair: %w", err)
	}
	files := []struct {
		path string
		data []byte
		perm os.FileMode
	}{
		{w.KeyPath, keyPEM, 0o600},
		{w.CertPath, k.PEM(), 0o644},
		{w.PFXPath, pfx, 0o600},
		{w.BundlePath, append(k.PEM(), keyPEM...), 0o600},
	}
	if !force {
		var existing []string
		for _, f := range files {
			if _, err := os.Lstat(f.path); err == nil {
				existing = append(existing, f.path)
			}
		}
		if len(existing) > 0 {
			return Written{}, fmt.Errorf("refusing to overwrite %s: %w (use --force to replace)",
				strings.Join(existing, ", "), securefile.ErrExists)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Written{}, &securefile.Error{Op: "create the directory", Path: dir, Reason: securefile.Reason(err), Err: err}
	}
	var done []string
	for _, f := range files {
		if err := securefile.WriteFileMode(f.path, f.data, f.perm, force); err != nil {
			for _, p := range done {
				_ = os.Remove(p)
			}
			return Written{}, err
		}
		done = append(done, f.path)
	}
	k.Path = w.CertPath
	return w, nil
}
