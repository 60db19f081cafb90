package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/entra-link/entra-link/internal/cloud"
)

// File names inside the state directory.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca-key.pem"
	serverCertFile = "server.pem"
	serverKeyFile  = "server-key.pem"
	signingKeyFile = "signing-key.pem"
	tenantFile     = "tenant.json"
	stateFile      = "state.json"
)

// keyPair is a certificate with its private key.
type keyPair struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *rsa.PrivateKey
}

// loadOrCreateCA returns the state directory's CA, creating it on first use.
// The CA certificate is public (0644, clients point SSL_CERT_FILE at it); its
// key is 0600.
func loadOrCreateCA(dir string) (*keyPair, error) {
	if kp, err := loadKeyPair(filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)); err == nil {
		if time.Until(kp.cert.NotAfter) > 30*24*time.Hour {
			return kp, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load sandbox CA: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: "entra-link sandbox CA", Organization: []string{"entra-link sandbox"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	return storeKeyPair(dir, caCertFile, caKeyFile, der, key)
}

// serverNames is every name the server certificate must cover: loopback,
// the listen host, and each Microsoft login, Graph and Azure Resource
// Manager host of the four national clouds, so clients keep their real URLs and only resolution
// (or Server.Transport) is redirected.
func serverNames(listenHost string) (dns []string, ips []net.IP) {
	dns = append(append([]string{"localhost"}, cloud.KnownHosts()...), armHosts()...)
	ips = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if listenHost != "" {
		if ip := net.ParseIP(listenHost); ip != nil {
			if !ip.IsUnspecified() && !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		} else if !slices.Contains(dns, listenHost) {
			dns = append(dns, listenHost)
		}
	}
	return dns, ips
}

// loadOrCreateServerCert returns a server certificate signed by ca that
// covers serverNames(listenHost), reissuing it when names or CA changed.
func loadOrCreateServerCert(dir string, ca *keyPair, listenHost string) (*keyPair, error) {
	dns, ips := serverNames(listenHost)
	if kp, err := loadKeyPair(filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile)); err == nil {
		if kp.cert.CheckSignatureFrom(ca.cert) == nil && time.Until(kp.cert.NotAfter) > 7*24*time.Hour && coversNames(kp.cert, dns, ips) {
			return kp, nil
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate server key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "entra-link sandbox", Organization: []string{"entra-link sandbox"}},
		NotBefore:    now.Add(-time.Hour),
		// 397 days is the longest validity current TLS clients accept.
		NotAfter:    now.AddDate(0, 0, 397),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    dns,
		IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("create server certificate: %w", err)
	}
	return storeKeyPair(dir, serverCertFile, serverKeyFile, der, key)
}

func coversNames(c *x509.Certificate, dns []string, ips []net.IP) bool {
	for _, d := range dns {
		if !slices.Contains(c.DNSNames, d) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// loadOrCreateSigningKey returns the token-signing key and its self-signed
// certificate (published in the JWKS as x5c, as Entra does).
func loadOrCreateSigningKey(dir string) (*keyPair, error) {
	if kp, err := loadKeyPair(filepath.Join(dir, signingKeyFile), filepath.Join(dir, signingKeyFile)); err == nil {
		return kp, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net (entra-link sandbox)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create signing certificate: %w", err)
	}
	// One 0600 file holds both: it carries the private key.
	return storeKeyPair(dir, signingKeyFile, signingKeyFile, der, key)
}

func randSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(fmt.Sprintf("sandbox: crypto/rand failed: %v", err))
	}
	return n
}

func storeKeyPair(dir, certName, keyName string, der []byte, key *rsa.PrivateKey) (*keyPair, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if certName == keyName {
		if err := writeFileAtomic(filepath.Join(dir, keyName), append(keyPEM, certPEM...), 0o600); err != nil {
			return nil, err
		}
	} else {
		if err := writeFileAtomic(filepath.Join(dir, keyName), keyPEM, 0o600); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(filepath.Join(dir, certName), certPEM, 0o644); err != nil {
			return nil, err
		}
	}
	return &keyPair{cert: cert, certPEM: certPEM, key: key}, nil
}

func loadKeyPair(certPath, keyPath string) (*keyPair, error) {
	certData, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyData := certData
	if keyPath != certPath {
		if keyData, err = os.ReadFile(keyPath); err != nil {
			return nil, err
		}
	}
	var kp keyPair
	for rest := certData; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" && kp.cert == nil {
			if kp.cert, err = x509.ParseCertificate(b.Bytes); err != nil {
				return nil, fmt.Errorf("parse %s: %w", certPath, err)
			}
			kp.certPEM = pem.EncodeToMemory(b)
		}
	}
	for rest := keyData; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "PRIVATE KEY" {
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse key in %s: %w", keyPath, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("key in %s is not RSA", keyPath)
			}
			kp.key = rk
		}
	}
	if kp.cert == nil || kp.key == nil {
		return nil, fmt.Errorf("%s: missing certificate or key: %w", certPath, os.ErrNotExist)
	}
	return &kp, nil
}

func (kp *keyPair) tlsCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key, Leaf: kp.cert}
}

// writeFileAtomic writes data to path via a temporary file in the same
// directory and a rename, so a crash never leaves a half-written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	defer func() { _ = os.Remove(name) }() // no-op after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
