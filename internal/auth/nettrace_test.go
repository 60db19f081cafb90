package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// envSignIn is --auth env as the sandbox's bootstrap admin through hc.
func envSignIn(t *testing.T, s *sandbox.Server, hc *http.Client, extra map[string]string) (policy.TokenRequestOptions, func(context.Context) error) {
	t.Helper()
	ti := s.Tenant()
	vars := map[string]string{"AZURE_TENANT_ID": ti.TenantID, "AZURE_CLIENT_ID": ti.ClientID, "AZURE_CLIENT_SECRET": ti.ClientSecret}
	for k, v := range extra {
		vars[k] = v
	}
	cred, err := NewCredential(Options{Method: MethodEnv, Cloud: cloud.Global, HTTPClient: hc, Getenv: env(vars)})
	if err != nil {
		t.Fatal(err)
	}
	o := policy.TokenRequestOptions{Scopes: []string{cloud.Global.GraphScope()}}
	return o, func(ctx context.Context) error { _, err := cred.GetToken(ctx, o); return err }
}

// A CA the client does not trust (a wrong SSL_CERT_FILE, a TLS-inspecting
// proxy) is named as such, with the host; azidentity alone says only
// "unable to resolve an endpoint: server response error:".
func TestSignInUntrustedCertificateNamesHost(t *testing.T) {
	s := sandboxtest.New(t)
	tr := s.Transport()
	tr.TLSClientConfig.RootCAs = x509.NewCertPool() // trusts nothing
	_, signIn := envSignIn(t, s, &http.Client{Transport: tr}, map[string]string{"SSL_CERT_FILE": "/etc/ssl/other.pem"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := signIn(ctx)
	if err == nil {
		t.Fatal("signed in through an untrusted certificate")
	}
	msg := err.Error()
	for _, want := range []string{"the TLS certificate of login.microsoftonline.com is not trusted", "x509: certificate signed by unknown authority", "SSL_CERT_FILE (/etc/ssl/other.pem)", "--auth env"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "server response error") || strings.Contains(msg, "\n") {
		t.Errorf("message is not one explained line:\n%s", msg)
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Errorf("the verification error is not in the chain: %#v", err)
	}
}

func TestNetworkHint(t *testing.T) {
	h := hintContext{method: MethodEnv}
	f := &netFailure{host: "login.microsoftonline.us", err: &url.Error{Op: "Post", URL: "https://login.microsoftonline.us/x",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}
	if got, want := h.networkHint(f), "cannot reach login.microsoftonline.us: the connection was refused (nothing listens there); check the network connection, a proxy in HTTPS_PROXY, and --cloud"; got != want {
		t.Errorf("networkHint = %q, want %q", got, want)
	}
	f.err = &url.Error{Op: "Post", URL: "https://login.microsoftonline.us/x", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "login.microsoftonline.us", Server: "10.255.255.53:53", IsNotFound: true}}}
	if got, want := h.networkHint(f), "cannot reach login.microsoftonline.us: its host name does not resolve; check the network connection, a proxy in HTTPS_PROXY, and --cloud"; got != want {
		t.Errorf("networkHint = %q, want %q", got, want)
	}
	f.err = &url.Error{Op: "Get", URL: "https://x", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "login.microsoftonline.us"}}
	if got := h.networkHint(f); !strings.HasPrefix(got, "the TLS certificate of login.microsoftonline.us is not trusted (x509: ") || strings.Contains(got, "issuer") {
		t.Errorf("hostname mismatch: %q", got)
	}
}

// Ctrl-C while the token request is under way is a cancellation, not
// "unable to resolve an endpoint".
func TestSignInCancelled(t *testing.T) {
	s := sandboxtest.New(t)
	s.Inject(sandbox.Rule{Path: `/oauth2/v2\.0/token$`, Action: sandbox.ActionHang})
	_, signIn := envSignIn(t, s, sandboxtest.Client(s), nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- signIn(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if _, err := s.WaitHeld(wctx, 1); err != nil {
		t.Fatalf("the token request never arrived: %v", err)
	}
	cancel()
	err := <-errc
	var se *SignInError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "sign-in was cancelled") {
		t.Fatalf("err = %v", err)
	}
}

// The sign-in never hands azcore a nil *http.Client inside its Transporter
// interface (what crashed rotate-secret --remove-old): no client means no
// transporter at all, azcore's default.
func TestNoTypedNilTransporter(t *testing.T) {
	if tr := newNetRecorder(nil, nil).transporter(); tr != nil {
		t.Fatalf("transporter() = %#v, want a nil interface", tr)
	}
	var r *netRecorder
	if tr := r.transporter(); tr != nil {
		t.Fatalf("nil recorder: transporter() = %#v", tr)
	}
	if tr := newNetRecorder(&http.Client{}, nil).transporter(); tr == nil {
		t.Fatal("a client was dropped")
	}
}

func TestFirstLineContinuesAfterColon(t *testing.T) {
	for in, want := range map[string]string{
		"a: server response error:\n Post \"x\": refused\nmore": `a: server response error: Post "x": refused`,
		"one\ntwo":  "one",
		"  only  ":  "only",
		"ends:\n\n": "ends:",
	} {
		if got := firstLine(in); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", in, got, want)
		}
	}
}
