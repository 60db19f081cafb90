// Package certs loads, checks and generates the X.509 certificates that
// entra-link adds to an app registration (Graph keyCredential, type
// AsymmetricX509Cert, usage Verify).
//
// Load and Parse accept one certificate, PEM or DER, whatever the file is
// called. They refuse anything that Entra or MSAL would reject later, or that
// must never be uploaded, with a message that names the file and says what to
// give instead: private keys, PKCS#12/PFX bundles, certificate requests,
// bare public keys, non-RSA keys, RSA keys under 2048 bits, certificates that
// are expired or not yet valid, and empty or unreadable files.
//
// Several certificates in one file are accepted only as a chain that starts
// with the application's own (leaf) certificate, each next certificate being
// the issuer of the one before, which is how servers and most export tools
// write chains. Only that first certificate is used; the rest are ignored.
// Any other combination is refused, because picking "the right one" out of
// an unordered bundle is a guess, and a wrong guess registers a credential
// that the product can never sign in with.
package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/inputfile"
)

// MinRSABits is the smallest RSA modulus Entra accepts for a certificate
// credential.
const MinRSABits = 2048

// MaxFileSize bounds what Load reads. A certificate chain is a few kilobytes;
// anything this large is not a certificate and is not worth reading whole.
const MaxFileSize = 1 << 20

// Certificate is a checked X.509 certificate, ready to become a Graph
// keyCredential.
type Certificate struct {
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// DER is the encoded certificate, the keyCredential "key" value.
	DER []byte
	// Thumbprint is the SHA-1 of DER in upper-case hex, as the Entra
	// portal and Windows show it.
	Thumbprint string
	// X5T and X5TS256 are the base64url (unpadded) SHA-1 and SHA-256 of
	// DER: the JWT header values of client assertions signed with the key.
	X5T, X5TS256 string
	// NotBefore and NotAfter are the validity window, in UTC; they are the
	// keyCredential's startDateTime and endDateTime.
	NotBefore, NotAfter time.Time
	// Subject is the distinguished name, e.g. "CN=entra-link hire2retire".
	Subject string
	// Path is the file the certificate was loaded from or written to
	// (empty if it has not been on disk).
	Path string
}

// CustomKeyIdentifier is the raw SHA-1 thumbprint (20 bytes): what Graph
// fills keyCredential.customKeyIdentifier with when it is not given.
func (c *Certificate) CustomKeyIdentifier() []byte {
	sum := sha1.Sum(c.DER)
	return sum[:]
}

// PEM is the certificate as a PEM "CERTIFICATE" block.
func (c *Certificate) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})
}

// Error kinds, for errors.Is on the *InvalidError that Load and Parse return.
var (
	ErrEmpty          = errors.New("empty certificate file")
	ErrTooLarge       = errors.New("certificate file too large")
	ErrNotCertificate = errors.New("not a certificate")
	ErrPrivateKey     = errors.New("contains a private key")
	ErrPKCS12         = errors.New("PKCS#12/PFX bundle")
	ErrNotChain       = errors.New("several certificates that are not one chain")
	ErrKeyType        = errors.New("key type not accepted by Entra")
	ErrKeyTooSmall    = errors.New("RSA key too small")
	ErrExpired        = errors.New("certificate expired")
	ErrNotYetValid    = errors.New("certificate not yet valid")
)

// InvalidError reports a certificate that entra-link will not upload. It is
// always bad input: nothing in the tenant has been touched.
type InvalidError struct {
	// Name is the file as the user gave it.
	Name string
	// Kind is one of the Err* values of this package.
	Kind error
	// Detail says what is wrong and what to give instead.
	Detail string
}

// Error names the file, then says what is wrong and what to give instead.
func (e *InvalidError) Error() string {
	if e.Name == "" {
		return "certificate: " + e.Detail
	}
	return "certificate " + e.Name + ": " + e.Detail
}

// Unwrap returns Kind, so errors.Is(err, certs.ErrPrivateKey) works.
func (e *InvalidError) Unwrap() error { return e.Kind }

func invalid(name string, kind error, format string, args ...any) *InvalidError {
	return &InvalidError{Name: name, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Messages shared by the PEM and DER paths.
const (
	msgPrivateKey = "the file contains a private key; give the certificate (public part) only, e.g. the .cer file " +
		"(a private key must never leave the product that owns it)"
	msgPKCS12 = "the file is a PKCS#12/PFX bundle, which holds the private key; give the certificate (public part) only, " +
		"e.g. the .cer file, or extract it with: openssl pkcs12 -in FILE.pfx -clcerts -nokeys -out cert.pem"
	msgPKCS7 = "the file is a PKCS#7 bundle (.p7b/.p7c); export the application's certificate alone as a .cer file " +
		"(DER or Base-64), or extract it with: openssl pkcs7 -print_certs -in FILE.p7b -out cert.pem"
	msgCSR = "the file is a certificate signing request (CSR), not a certificate; give the certificate that was issued for it"
	msgPub = "the file holds a bare public key, not a certificate; Entra needs the X.509 certificate, e.g. the .cer file"
	msgNot = "the file is not a certificate; expected a PEM (-----BEGIN CERTIFICATE-----) or DER X.509 certificate, " +
		"e.g. the .cer, .crt or .pem file"
)

// Load reads a certificate file (PEM or DER, any extension) and checks it as
// Parse does, at time now.
func Load(path string, now time.Time) (*Certificate, error) {
	data, err := inputfile.Read(path, MaxFileSize)
	var ie *inputfile.Error
	switch {
	case errors.As(err, &ie) && errors.Is(err, inputfile.ErrTooLarge):
		return nil, invalid(path, ErrTooLarge, "the file is larger than %d KiB, far more than a certificate; %s",
			MaxFileSize>>10, "give the certificate file, e.g. the .cer file")
	case errors.As(err, &ie):
		return nil, invalid(path, ErrNotCertificate, "%s; give the certificate file, e.g. the .cer file", ie.Msg)
	case err != nil:
		return nil, fmt.Errorf("read certificate %s: %w", path, err)
	}
	return Parse(data, path, now)
}

// Parse checks data as the contents of the certificate file name (used in
// messages and kept as Path) at time now. See the package documentation for
// what is accepted. Every refusal is an *InvalidError.
func Parse(data []byte, name string, now time.Time) (*Certificate, error) {
	// x509 keeps slices of its input; a private copy keeps the result
	// independent of the caller's buffer.
	data = bytes.Clone(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid(name, ErrEmpty, "the file is empty; give the certificate file, e.g. the .cer file")
	}
	chain, err := decode(data, name)
	if err != nil {
		return nil, err
	}
	if err := checkChain(chain, name); err != nil {
		return nil, err
	}
	leaf := chain[0]
	if err := checkKey(leaf, name); err != nil {
		return nil, err
	}
	if err := checkValidity(leaf, name, now); err != nil {
		return nil, err
	}
	return newCertificate(leaf, name), nil
}

func newCertificate(c *x509.Certificate, path string) *Certificate {
	s1 := sha1.Sum(c.Raw)
	s256 := sha256.Sum256(c.Raw)
	return &Certificate{
		Cert:       c,
		DER:        c.Raw,
		Thumbprint: strings.ToUpper(hex.EncodeToString(s1[:])),
		X5T:        base64.RawURLEncoding.EncodeToString(s1[:]),
		X5TS256:    base64.RawURLEncoding.EncodeToString(s256[:]),
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		Subject:    c.Subject.String(),
		Path:       path,
	}
}

// decode returns the certificates in data, leaf first, or the reason the
// data is not something to upload.
func decode(data []byte, name string) ([]*x509.Certificate, error) {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return decodePEM(data, name)
	}
	if der, ok := bareBase64(data); ok {
		// Some products show the certificate as bare base64 (PEM without
		// the armour lines); users save that as a file.
		return decodeDER(der, name)
	}
	return decodeDER(data, name)
}

func decodePEM(data []byte, name string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	var others []string
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch t := block.Type; {
		case strings.Contains(t, "PRIVATE KEY"):
			// Covers PKCS#8 (also ENCRYPTED), PKCS#1 RSA, SEC1 EC, OpenSSH.
			return nil, invalid(name, ErrPrivateKey, "%s", msgPrivateKey)
		case t == "CERTIFICATE" || t == "X509 CERTIFICATE" || t == "TRUSTED CERTIFICATE":
			der := block.Bytes
			if t == "TRUSTED CERTIFICATE" {
				// OpenSSL appends its trust settings after the certificate.
				var raw asn1.RawValue
				if _, err := asn1.Unmarshal(der, &raw); err == nil {
					der = raw.FullBytes
				}
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, invalid(name, ErrNotCertificate,
					"PEM block %d (%s) is not a valid X.509 certificate (%v); export the certificate again", n, t, err)
			}
			certs = append(certs, c)
		case t == "PKCS12":
			return nil, invalid(name, ErrPKCS12, "%s", msgPKCS12)
		case t == "PKCS7" || t == "CMS":
			return nil, invalid(name, ErrNotCertificate, "%s", msgPKCS7)
		case strings.Contains(t, "CERTIFICATE REQUEST"):
			return nil, invalid(name, ErrNotCertificate, "%s", msgCSR)
		default:
			if !slices.Contains(others, t) {
				others = append(others, t)
			}
		}
	}
	if len(certs) > 0 {
		return certs, nil
	}
	if len(others) == 0 {
		return nil, invalid(name, ErrNotCertificate,
			"the PEM data is damaged (no complete -----BEGIN/-----END block); export the certificate again")
	}
	for _, t := range others {
		if t == "PUBLIC KEY" || t == "RSA PUBLIC KEY" {
			return nil, invalid(name, ErrNotCertificate, "%s", msgPub)
		}
	}
	if len(others) > 5 {
		others = append(others[:5], "...")
	}
	return nil, invalid(name, ErrNotCertificate, "the file has no certificate (it holds PEM blocks of type %s); %s",
		strings.Join(others, ", "), "give the certificate file, e.g. the .cer file")
}

// bareBase64 recognises a file that is nothing but base64 text and returns
// what it decodes to.
func bareBase64(data []byte) ([]byte, bool) {
	compact := make([]byte, 0, len(data))
	for _, b := range data {
		switch {
		case b == ' ' || b == '\t' || b == '\r' || b == '\n':
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '+', b == '/', b == '=':
			compact = append(compact, b)
		default:
			return nil, false
		}
	}
	der, err := base64.StdEncoding.DecodeString(string(compact))
	// DER starts with a SEQUENCE tag; insisting on it keeps short words
	// that happen to be valid base64 on the "not a certificate" path.
	if err != nil || len(der) == 0 || der[0] != 0x30 {
		return nil, false
	}
	return der, true
}

// OIDs used to recognise what a non-certificate DER blob is.
var (
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPKCS12PBE  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
)

func decodeDER(der []byte, name string) ([]*x509.Certificate, error) {
	c, certErr := x509.ParseCertificate(der)
	if certErr == nil {
		return []*x509.Certificate{c}, nil
	}
	switch {
	case isPKCS12(der):
		return nil, invalid(name, ErrPKCS12, "%s", msgPKCS12)
	case isPrivateKey(der):
		return nil, invalid(name, ErrPrivateKey, "%s", msgPrivateKey)
	case isPKCS7(der):
		return nil, invalid(name, ErrNotCertificate, "%s", msgPKCS7)
	}
	if _, err := x509.ParseCertificateRequest(der); err == nil {
		return nil, invalid(name, ErrNotCertificate, "%s", msgCSR)
	}
	if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		return nil, invalid(name, ErrNotCertificate, "%s", msgPub)
	}
	if _, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return nil, invalid(name, ErrNotCertificate, "%s", msgPub)
	}
	if der[0] == 0x30 {
		// ASN.1 that is almost a certificate: x509's reason helps.
		return nil, invalid(name, ErrNotCertificate, "%s (%v)", msgNot, certErr)
	}
	return nil, invalid(name, ErrNotCertificate, "%s", msgNot)
}

// isPKCS12 matches the PFX structure (RFC 7292): SEQUENCE { version 3,
// ContentInfo { data or signedData }, ... }.
func isPKCS12(der []byte) bool {
	var pfx struct {
		Version  int
		AuthSafe struct {
			ContentType asn1.ObjectIdentifier
			Content     asn1.RawValue `asn1:"optional"`
		}
		MacData asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &pfx); err != nil {
		return false
	}
	return pfx.Version == 3 && (pfx.AuthSafe.ContentType.Equal(oidData) || pfx.AuthSafe.ContentType.Equal(oidSignedData))
}

func isPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return true
	}
	// EncryptedPrivateKeyInfo (PKCS#8, RFC 5958): can't be opened without
	// the password, but its shape and algorithm give it away.
	var enc struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}
	if rest, err := asn1.Unmarshal(der, &enc); err == nil && len(rest) == 0 {
		a := enc.Algorithm.Algorithm
		if a.Equal(oidPBES2) || hasPrefix(a, oidPKCS12PBE) {
			return true
		}
	}
	return false
}

func isPKCS7(der []byte) bool {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return false
	}
	return ci.ContentType.Equal(oidSignedData)
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}

// checkChain accepts one certificate, or a chain in issuing order starting
// with the leaf.
func checkChain(chain []*x509.Certificate, name string) error {
	for i := 0; i+1 < len(chain); i++ {
		if !bytes.Equal(chain[i].RawIssuer, chain[i+1].RawSubject) {
			return invalid(name, ErrNotChain,
				"the file holds %d certificates that are not one chain starting with the application's certificate "+
					"(certificate %d, %q, was not issued by certificate %d, %q); give the application's certificate alone, e.g. the .cer file",
				len(chain), i+1, chain[i].Subject.String(), i+2, chain[i+1].Subject.String())
		}
	}
	return nil
}

func checkKey(c *x509.Certificate, name string) error {
	const rsaOnly = "Microsoft Entra accepts RSA keys only (2048 bits or more); ask the product for an RSA certificate " +
		"or let entra-link generate one (leave out --certificate-file)"
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < MinRSABits {
			return invalid(name, ErrKeyTooSmall,
				"the certificate's RSA key has %d bits; Microsoft Entra needs at least %d. Create a new certificate with a "+
					"2048-bit (or larger) RSA key, or let entra-link generate one (leave out --certificate-file)", bits, MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		return invalid(name, ErrKeyType, "the certificate has an ECDSA %s key; %s", pub.Curve.Params().Name, rsaOnly)
	case ed25519.PublicKey:
		return invalid(name, ErrKeyType, "the certificate has an Ed25519 key; %s", rsaOnly)
	default:
		return invalid(name, ErrKeyType, "the certificate has a %v key; %s", c.PublicKeyAlgorithm, rsaOnly)
	}
}

// timeLayout is how dates appear in messages: unambiguous and in UTC.
const timeLayout = "2006-01-02 15:04:05 UTC"

func checkValidity(c *x509.Certificate, name string, now time.Time) error {
	from, to := c.NotBefore.UTC().Format(timeLayout), c.NotAfter.UTC().Format(timeLayout)
	switch {
	case now.After(c.NotAfter):
		return invalid(name, ErrExpired,
			"the certificate expired on %s (valid from %s to %s); get a current certificate from the product", to, from, to)
	case now.Before(c.NotBefore):
		return invalid(name, ErrNotYetValid,
			"the certificate is not valid until %s (valid from %s to %s, now is %s); check the computer's clock or use a certificate that is valid now",
			from, from, to, now.UTC().Format(timeLayout))
	}
	return nil
}
