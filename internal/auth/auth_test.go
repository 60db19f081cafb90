package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/entra-link/entra-link/internal/cloud"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestDefaultMethod(t *testing.T) {
	cases := []struct {
		name string
		goos string
		env  map[string]string
		want string
	}{
		{"macOS desktop", "darwin", nil, MethodBrowser},
		{"Windows desktop", "windows", nil, MethodBrowser},
		{"Linux X11", "linux", map[string]string{"DISPLAY": ":0"}, MethodBrowser},
		{"Linux Wayland", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, MethodBrowser},
		{"Linux console", "linux", nil, MethodDeviceCode},
		{"SSH into a Mac", "darwin", map[string]string{"SSH_CONNECTION": "10.0.0.1 22 10.0.0.2 51000"}, MethodDeviceCode},
		{"SSH with X forwarding", "linux", map[string]string{"DISPLAY": "localhost:10.0", "SSH_TTY": "/dev/pts/1"}, MethodDeviceCode},
		{"podman container", "linux", map[string]string{"container": "podman", "DISPLAY": ":0"}, MethodDeviceCode},
		{"Kubernetes pod", "linux", map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, MethodDeviceCode},
		{"Codespaces", "linux", map[string]string{"CODESPACES": "true"}, MethodDeviceCode},
		{"FreeBSD desktop", "freebsd", map[string]string{"DISPLAY": ":0"}, MethodBrowser},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DefaultMethod(env(tc.env), tc.goos); got != tc.want {
				t.Errorf("DefaultMethod = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewCredentialRejectsUnknownMethod(t *testing.T) {
	_, err := NewCredential(Options{Method: "password", Getenv: env(nil)})
	if err == nil || !strings.Contains(err.Error(), `invalid value "password" for --auth`) || !strings.Contains(err.Error(), "device-code") {
		t.Fatalf("err = %v", err)
	}
}

func TestEnvCredentialNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pfx")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, nil, 0o600); err != nil || os.Truncate(huge, 4<<30) != nil {
		t.Fatal("cannot make a sparse 4 GiB file")
	}
	cases := []struct {
		name   string
		env    map[string]string
		tenant string
		want   []string
		not    []string
	}{
		{"nothing set", nil, "", []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH", "variables"}, nil},
		{"only the tenant", map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com"}, "", []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"}, []string{"AZURE_TENANT_ID"}},
		{"--tenant stands in for AZURE_TENANT_ID", map[string]string{"AZURE_CLIENT_SECRET": "s3cret-value"}, "contoso.onmicrosoft.com", []string{"variable AZURE_CLIENT_ID"}, []string{"AZURE_TENANT_ID", "s3cret-value"}},
		{"certificate file missing", map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": filepath.Join(dir, "nope.pem")}, "", []string{"cannot read the certificate in AZURE_CLIENT_CERTIFICATE_PATH", "no such file"}, nil},
		{"certificate file unreadable", map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": garbage, "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pfx-pass-word"}, "", []string{"neither PEM nor a readable PKCS#12"}, []string{"pfx-pass-word"}},
		// Never blocks nor reads without bound.
		{"certificate is /dev/zero", map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": "/dev/zero"}, "", []string{"(/dev/zero) is a character device, not a file"}, nil},
		{"certificate is huge", map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": huge}, "", []string{"is larger than 1 MiB"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCredential(Options{Method: MethodEnv, Tenant: tc.tenant, Getenv: env(tc.env)})
			var se *SignInError
			if !errors.As(err, &se) || se.Method != MethodEnv || !se.Input {
				t.Fatalf("err = %v, want *SignInError for env, marked as bad input", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q mentions %q", err, n)
				}
			}
		})
	}
}

func TestEnvSecretSignsInAgainstTheCloudsAuthority(t *testing.T) {
	sts := newFakeSTS(t, "login.microsoftonline.us")
	cred, err := NewCredential(Options{
		Method: MethodEnv, Cloud: cloud.USGovDoD, HTTPClient: &http.Client{Transport: sts},
		Getenv: env(map[string]string{"AZURE_TENANT_ID": "84841066-274d-4ec0-a5c1-276be684bdd3", "AZURE_CLIENT_ID": "c0ffee00-0000-4000-8000-000000000001", "AZURE_CLIENT_SECRET": "s3cret"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://dod-graph.microsoft.us/.default"}})
	if err != nil || tok.Token != "app-token" {
		t.Fatalf("GetToken = %q, %v", tok.Token, err)
	}
	var tokenReq *stsRequest
	for _, r := range sts.requests() {
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			r := r
			tokenReq = &r
		}
	}
	if tokenReq == nil || tokenReq.Host != "login.microsoftonline.us" || !strings.HasPrefix(tokenReq.Path, "/84841066-274d-4ec0-a5c1-276be684bdd3/") {
		t.Fatalf("token request = %+v", tokenReq)
	}
	if s := first(tokenReq.Form["scope"]); !strings.Contains(s, "https://dod-graph.microsoft.us/.default") {
		t.Errorf("scope = %q", s)
	}
	// Application tokens are never mapped to delegated scopes.
	if strings.Contains(first(tokenReq.Form["scope"]), "Application.ReadWrite.All") {
		t.Error("app-only sign-in asked for delegated scopes")
	}
}

// TestNoInstanceDiscovery: MSAL's instance discovery (a request to
// /common/discovery/instance before every sign-in) is skipped for the four
// national clouds — whose authorities MSAL knows — and for custom
// authorities, which discovery cannot know: a sign-in is the OpenID
// metadata and the token, nothing else.
func TestNoInstanceDiscovery(t *testing.T) {
	custom, err := cloud.Custom("https://login.sovereign.example", "https://graph.sovereign.example")
	if err != nil {
		t.Fatal(err)
	}
	envVars := env(map[string]string{"AZURE_TENANT_ID": "84841066-274d-4ec0-a5c1-276be684bdd3", "AZURE_CLIENT_ID": "c0ffee00-0000-4000-8000-000000000001", "AZURE_CLIENT_SECRET": "s3cret"})
	for _, c := range append(cloud.All(), custom) {
		t.Run(c.Name, func(t *testing.T) {
			sts := newFakeSTS(t, c.AuthorityHostName())
			cred, err := NewCredential(Options{Method: MethodEnv, Cloud: c, HTTPClient: &http.Client{Transport: sts}, Getenv: envVars})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{c.GraphScope()}}); err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			var paths []string
			for _, r := range sts.requests() {
				paths = append(paths, r.Path)
			}
			want := []string{"/84841066-274d-4ec0-a5c1-276be684bdd3/v2.0/.well-known/openid-configuration", "/84841066-274d-4ec0-a5c1-276be684bdd3/oauth2/v2.0/token"}
			if strings.Join(paths, " ") != strings.Join(want, " ") {
				t.Errorf("sign-in requests %v, want %v", paths, want)
			}
		})
	}
}

func TestDeviceCodeAsksForLeastPrivilegeScopesOnTheCloudsGraph(t *testing.T) {
	sts := newFakeSTS(t, "login.microsoftonline.us")
	var prompts []string
	cred, err := NewCredential(Options{
		Method: MethodDeviceCode, Cloud: cloud.USGov, HTTPClient: &http.Client{Transport: sts}, Getenv: env(nil),
		DeviceCodePrompt: func(_ context.Context, msg string) error { prompts = append(prompts, msg); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.us/.default"}})
	if err != nil || tok.Token != "user-token" {
		t.Fatalf("GetToken = %q, %v", tok.Token, err)
	}
	if len(prompts) != 1 || !strings.Contains(prompts[0], "ABCD-EFGH") {
		t.Errorf("prompts = %q", prompts)
	}
	var dc *stsRequest
	for _, r := range sts.requests() {
		if strings.HasSuffix(r.Path, "/devicecode") {
			r := r
			dc = &r
		}
	}
	if dc == nil {
		t.Fatal("no device code request")
	}
	if dc.Path != "/organizations/oauth2/v2.0/devicecode" {
		t.Errorf("device code path = %s, want the organizations authority", dc.Path)
	}
	if got := first(dc.Form["client_id"]); got != DefaultLoginClientID {
		t.Errorf("client_id = %q", got)
	}
	scopes := strings.Fields(first(dc.Form["scope"]))
	for _, s := range DelegatedScopes {
		if !contains(scopes, "https://graph.microsoft.us/"+s) {
			t.Errorf("scope %s not requested on graph.microsoft.us: %v", s, scopes)
		}
	}
	for _, s := range scopes {
		if strings.HasSuffix(s, "/.default") || strings.Contains(s, "graph.microsoft.com") {
			t.Errorf("unexpected scope %q requested", s)
		}
	}

	// The run signs in once: the next call (e.g. WhoAmI) is served from cache.
	n := len(sts.requests())
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.us/.default"}}); err != nil {
		t.Fatal(err)
	}
	if len(sts.requests()) != n || len(prompts) != 1 {
		t.Errorf("second GetToken went back to the STS (%d -> %d requests, %d prompts)", n, len(sts.requests()), len(prompts))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestGraphScopes(t *testing.T) {
	got := GraphScopes(cloud.China)
	want := []string{
		"https://microsoftgraph.chinacloudapi.cn/Application.ReadWrite.All",
		"https://microsoftgraph.chinacloudapi.cn/AppRoleAssignment.ReadWrite.All",
		"https://microsoftgraph.chinacloudapi.cn/DelegatedPermissionGrant.ReadWrite.All",
		"https://microsoftgraph.chinacloudapi.cn/RoleManagement.ReadWrite.Directory",
		"https://microsoftgraph.chinacloudapi.cn/Organization.Read.All",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GraphScopes(china) = %v", got)
	}
}

// countingCred is an inner credential that counts calls.
type countingCred struct {
	calls  atomic.Int32
	scopes [][]string
	mu     sync.Mutex
	expiry time.Duration
	err    error
	delay  time.Duration
}

func (c *countingCred) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := c.calls.Add(1)
	c.mu.Lock()
	c.scopes = append(c.scopes, o.Scopes)
	c.mu.Unlock()
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: fmt.Sprintf("tok-%d", n), ExpiresOn: time.Now().Add(c.expiry)}, nil
}

func TestCachingCredential(t *testing.T) {
	ctx := context.Background()
	graph := policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}

	t.Run("one fetch per scope set", func(t *testing.T) {
		inner := &countingCred{expiry: time.Hour}
		c := &cachingCredential{inner: inner, entries: map[string]*cacheEntry{}}
		a, _ := c.GetToken(ctx, graph)
		b, _ := c.GetToken(ctx, graph)
		other, _ := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://outlook.office365.com/.default"}})
		if a.Token != b.Token || inner.calls.Load() != 2 || other.Token == a.Token {
			t.Errorf("tokens %q %q %q after %d calls", a.Token, b.Token, other.Token, inner.calls.Load())
		}
	})
	t.Run("renews before expiry", func(t *testing.T) {
		inner := &countingCred{expiry: 4 * time.Minute} // inside the 5-minute margin
		c := &cachingCredential{inner: inner, entries: map[string]*cacheEntry{}}
		_, _ = c.GetToken(ctx, graph)
		_, _ = c.GetToken(ctx, graph)
		if inner.calls.Load() != 2 {
			t.Errorf("%d calls, want 2", inner.calls.Load())
		}
	})
	t.Run("claims challenges bypass the cache and replace its token", func(t *testing.T) {
		inner := &countingCred{expiry: time.Hour}
		c := &cachingCredential{inner: inner, entries: map[string]*cacheEntry{}}
		old, _ := c.GetToken(ctx, graph)
		withClaims := graph
		withClaims.Claims = `{"access_token":{"nbf":{"essential":true}}}`
		renewed, _ := c.GetToken(ctx, withClaims)
		after, _ := c.GetToken(ctx, graph)
		if inner.calls.Load() != 2 || renewed.Token == old.Token || after.Token != renewed.Token {
			t.Errorf("%d calls, tokens %q, %q (claims), then %q; want 2 calls and the renewed token kept", inner.calls.Load(), old.Token, renewed.Token, after.Token)
		}
	})
	t.Run("parallel callers share one sign-in", func(t *testing.T) {
		inner := &countingCred{expiry: time.Hour, delay: 50 * time.Millisecond}
		c := &cachingCredential{inner: inner, entries: map[string]*cacheEntry{}}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = c.GetToken(ctx, graph) }()
		}
		wg.Wait()
		if inner.calls.Load() != 1 {
			t.Errorf("%d sign-ins for 8 parallel callers", inner.calls.Load())
		}
	})
	t.Run("waiting caller honours its context", func(t *testing.T) {
		inner := &countingCred{expiry: time.Hour, delay: 300 * time.Millisecond}
		c := &cachingCredential{inner: inner, entries: map[string]*cacheEntry{}}
		go func() { _, _ = c.GetToken(ctx, graph) }()
		time.Sleep(20 * time.Millisecond)
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.GetToken(short, graph)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 200*time.Millisecond {
			t.Errorf("err = %v after %v", err, time.Since(start))
		}
	})
	t.Run("errors are explained and not cached", func(t *testing.T) {
		inner := &countingCred{expiry: time.Hour, err: errors.New(`ClientSecretCredential authentication failed. {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: 1 Correlation ID: 2"}`)}
		c := &cachingCredential{inner: inner, hints: hintContext{method: MethodEnv, secretVar: "AZURE_CLIENT_SECRET"}, entries: map[string]*cacheEntry{}}
		_, err := c.GetToken(ctx, graph)
		_, _ = c.GetToken(ctx, graph)
		var se *SignInError
		if !errors.As(err, &se) || se.Code != "AADSTS7000215" || !strings.Contains(err.Error(), "the client secret in AZURE_CLIENT_SECRET is wrong or expired") {
			t.Errorf("err = %v", err)
		}
		if inner.calls.Load() != 2 {
			t.Errorf("a failure was cached (%d calls)", inner.calls.Load())
		}
	})
	t.Run("delegated mapping only for the cloud's .default", func(t *testing.T) {
		inner := &countingCred{expiry: time.Hour}
		c := &cachingCredential{inner: inner, mapScopes: delegatedScopeMapper("https://graph.microsoft.com"), entries: map[string]*cacheEntry{}}
		_, _ = c.GetToken(ctx, graph)
		_, _ = c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.us/.default"}})
		if len(inner.scopes) != 2 || len(inner.scopes[0]) != len(DelegatedScopes) || inner.scopes[0][0] != "https://graph.microsoft.com/Application.ReadWrite.All" {
			t.Errorf("mapped scopes = %v", inner.scopes)
		}
		if !reflect.DeepEqual(inner.scopes[1], []string{"https://graph.microsoft.us/.default"}) {
			t.Errorf("another resource's scope was rewritten: %v", inner.scopes[1])
		}
	})
}

func TestExplain(t *testing.T) {
	body := func(code, text string) error {
		return errors.New("DeviceCodeCredential authentication failed\nPOST https://login.microsoftonline.com/organizations/oauth2/v2.0/token\n--------\nRESPONSE 400\n--------\n{\"error\":\"x\",\"error_description\":\"AADSTS" + code + ": " + text + " Trace ID: abc Correlation ID: def Timestamp: 2026-01-01\"}")
	}
	cases := []struct {
		name string
		h    hintContext
		err  error
		code string
		want string
	}{
		{"env secret wrong", hintContext{method: MethodEnv, secretVar: "AZURE_CLIENT_SECRET"}, body("7000215", "Invalid client secret provided."), "AADSTS7000215", "the client secret in AZURE_CLIENT_SECRET is wrong or expired"},
		{"secret expired", hintContext{method: MethodEnv, secretVar: "AZURE_CLIENT_SECRET"}, body("7000222", "The provided client secret keys for app are expired."), "AADSTS7000222", "has expired"},
		{"certificate not registered", hintContext{method: MethodEnv, certVar: "AZURE_CLIENT_CERTIFICATE_PATH"}, body("700027", "Client assertion contains an invalid signature."), "AADSTS700027", "the certificate in AZURE_CLIENT_CERTIFICATE_PATH is not one of the app's registered certificates"},
		{"unknown tenant", hintContext{method: MethodDeviceCode}, body("90002", "Tenant 'nope.example' not found."), "AADSTS90002", "check --tenant"},
		{"MFA", hintContext{method: MethodEnv}, body("50076", "Due to a configuration change made by your administrator..."), "AADSTS50076", "multi-factor"},
		{"conditional access", hintContext{method: MethodBrowser}, body("53003", "Access has been blocked by Conditional Access policies."), "AADSTS53003", "Conditional Access"},
		{"consent", hintContext{method: MethodBrowser}, body("65001", "The user or administrator has not consented."), "AADSTS65001", "RoleManagement.ReadWrite.Directory"},
		{"unmapped code keeps Entra's words", hintContext{method: MethodBrowser}, body("123456", "Something unusual happened."), "AADSTS123456", "Entra ID refused the sign-in: Something unusual happened."},
		{"az not signed in", hintContext{method: MethodAzureCLI}, errors.New("AzureCLICredential: ERROR: Please run 'az login' to setup account."), "", "az login"},
		{"cancelled", hintContext{method: MethodBrowser}, context.Canceled, "", "cancelled"},
		{"device code expired", hintContext{method: MethodDeviceCode}, errors.New(`{"error":"expired_token"}`), "", "device code expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.h.explain(tc.err)
			var se *SignInError
			if !errors.As(err, &se) {
				t.Fatalf("explain = %T", err)
			}
			if se.Code != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("explain = %q (code %q)", err, se.Code)
			}
			if strings.Contains(err.Error(), "Trace ID") || strings.Contains(err.Error(), "\n") {
				t.Errorf("explanation carries noise: %q", err)
			}
			if !errors.Is(err, tc.err) {
				t.Error("the underlying error is lost")
			}
		})
	}
	if tc := (hintContext{}); tc.explain(nil) != nil {
		t.Error("explain(nil) != nil")
	}
}

// selfSigned makes an RSA certificate and key for the PKCS#12 tests.
func selfSigned(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entra-link test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestParseCertificateFormats(t *testing.T) {
	cert, key := selfSigned(t)
	modern, err := pkcs12.Modern.Encode(key, cert, nil, "pfx-pass")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := pkcs12.LegacyDES.Encode(key, cert, nil, "pfx-pass")
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemBoth := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	pemCertOnly := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})

	cases := []struct {
		name, password string
		data           []byte
		wantErr        string
	}{
		{"modern PKCS#12 (AES, PBKDF2)", "pfx-pass", modern, ""},
		{"legacy PKCS#12 (3DES)", "pfx-pass", legacy, ""},
		{"PEM certificate and key", "", pemBoth, ""},
		{"PEM without key", "", pemCertOnly, "both a certificate and its private key"},
		{"wrong PKCS#12 password", "wrong-pass", modern, "cannot be opened with the password in AZURE_CLIENT_CERTIFICATE_PASSWORD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, k, err := parseCertificate(tc.data, tc.password)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), tc.password) && tc.password != "" {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(certs) == 0 || !certs[0].Equal(cert) || k == nil {
				t.Errorf("parsed %d certs, key %T", len(certs), k)
			}
		})
	}
}

func TestEnvCertificateCredentialFromModernPFX(t *testing.T) {
	cert, key := selfSigned(t)
	pfx, err := pkcs12.Modern.Encode(key, cert, nil, "pfx-pass")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.pfx")
	if err := os.WriteFile(path, pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	sts := newFakeSTS(t, "login.microsoftonline.com")
	cred, err := NewCredential(Options{Method: MethodEnv, HTTPClient: &http.Client{Transport: sts}, Getenv: env(map[string]string{
		"AZURE_TENANT_ID": "84841066-274d-4ec0-a5c1-276be684bdd3", "AZURE_CLIENT_ID": "c0ffee00-0000-4000-8000-000000000001",
		"AZURE_CLIENT_CERTIFICATE_PATH": path, "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pfx-pass",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
		t.Fatal(err)
	}
	var assertion string
	for _, r := range sts.requests() {
		if strings.HasSuffix(r.Path, "/token") {
			assertion = first(r.Form["client_assertion"])
		}
	}
	if strings.Count(assertion, ".") != 2 {
		t.Errorf("token request carried no client assertion: %q", assertion)
	}
}
