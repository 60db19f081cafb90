//go:build clients

package clienttest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as the SHA-1 thumbprint
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithappid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// certPrincipal is a sandbox principal that signs in with a certificate.
type certPrincipal struct {
	ClientID string
	KeyFile  string // PKCS#8 private key, PEM, 0600
	CertFile string // certificate, PEM
	// Combined is key and certificate in one PEM file (0600), the form
	// the Azure CLI and the CLI for Microsoft 365 take.
	Combined string
	SHA1     string // hex thumbprints
	SHA256   string
}

// newCertPrincipal seeds a principal with the given Graph application
// permissions, creates an RSA-2048 self-signed certificate and uploads it
// to the application through the SDK (PATCH keyCredentials, as an admin).
func newCertPrincipal(t *testing.T, s *sandbox.Server, name string, graphRoles []string) certPrincipal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clientID, _, err := s.CreatePrincipal(ctx, name, graphRoles, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	dir := t.TempDir()
	p := certPrincipal{
		ClientID: clientID,
		KeyFile:  filepath.Join(dir, "key.pem"),
		CertFile: filepath.Join(dir, "cert.pem"),
		Combined: filepath.Join(dir, "combined.pem"),
	}
	s1, s256 := sha1.Sum(der), sha256.Sum256(der) //nolint:gosec // thumbprint, not a signature
	p.SHA1, p.SHA256 = hex.EncodeToString(s1[:]), hex.EncodeToString(s256[:])
	for file, data := range map[string][]byte{p.KeyFile: keyPEM, p.CertFile: certPEM, p.Combined: append(append([]byte{}, keyPEM...), certPEM...)} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	info := s.Tenant()
	admin := newSDKAdapter(t, s, info.ClientID, info.ClientSecret, &wireLog{})
	app, err := applicationswithappid.NewApplicationsWithAppIdRequestBuilderInternal(map[string]string{}, admin, &clientID).Get(ctx, nil)
	if err != nil {
		t.Fatalf("get application %s: %s", clientID, describe(err))
	}
	kc := models.NewKeyCredential()
	kc.SetTypeEscaped(ptr("AsymmetricX509Cert"))
	kc.SetUsage(ptr("Verify"))
	kc.SetKey(der)
	kc.SetDisplayName(ptr("CN=" + name))
	upd := models.NewApplication()
	upd.SetKeyCredentials([]models.KeyCredentialable{kc})
	if _, err := applications.NewApplicationsRequestBuilderInternal(map[string]string{}, admin).ByApplicationId(deref(app.GetId())).Patch(ctx, upd, nil); err != nil {
		t.Fatalf("upload certificate: %s", describe(err))
	}
	return p
}
