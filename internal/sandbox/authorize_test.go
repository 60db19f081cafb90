package sandbox_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// loopbackApp is the application's end of an interactive sign-in: a
// server on http://localhost:PORT that receives the authorize response
// (query or form_post), like MSAL's local redirect server.
type loopbackApp struct {
	redirect string
	got      chan url.Values
}

func newLoopbackApp(t *testing.T) *loopbackApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &loopbackApp{redirect: "http://localhost:" + strings.Split(ln.Addr().String(), ":")[1] + "/", got: make(chan url.Values, 1)}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		select {
		case a.got <- r.Form:
		default:
		}
		_, _ = w.Write([]byte("Authentication complete. You can close this window."))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return a
}

func (a *loopbackApp) result(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-a.got:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("the application never received the authorize response")
		return nil
	}
}

// pkce returns a code verifier and its S256 challenge.
func pkce(t *testing.T) (string, string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL is what MSAL builds for AcquireTokenInteractive.
func authorizeURL(s *sandbox.Server, clientID, redirect, scope, challenge, state string) string {
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {scope},
		"state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {"select_account"},
		"response_mode": {"form_post"}}
	return s.URL() + "/organizations/oauth2/v2.0/authorize?" + q.Encode()
}

func browserFor(s *sandbox.Server, login string) *sandboxtest.Browser {
	return &sandboxtest.Browser{HTTP: sandboxtest.LoopbackClient(s.CACertPEM()), Login: login}
}

// TestAuthorizationCodeFlow is InteractiveBrowserCredential's flow end to
// end: the sign-in page, consent, the form_post back to the loopback
// redirect URI, the code redeemed with the PKCE verifier, single use, and
// the refresh token.
func TestAuthorizationCodeFlow(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	app := newLoopbackApp(t)
	verifier, challenge := pkce(t)
	scope := "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/User.Read openid profile offline_access"
	b := browserFor(s, "admin@"+info.TenantDomain)
	out, err := b.Open(context.Background(), authorizeURL(s, graphCLIClientID, app.redirect, scope, challenge, "st-1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Sign in to your account", "Permissions requested", "Working..."}; !slices.Equal(b.Pages, want) {
		t.Errorf("pages %v, want %v", b.Pages, want)
	}
	if out.URL.Host != strings.TrimPrefix(strings.TrimSuffix(app.redirect, "/"), "http://") {
		t.Errorf("the browser ended at %s, want the redirect URI", out.URL)
	}
	got := app.result(t)
	code := got.Get("code")
	if code == "" || got.Get("state") != "st-1" {
		t.Fatalf("authorize response %v", got)
	}

	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	tokenURL := s.URL() + "/organizations/oauth2/v2.0/token"
	redeem := func(code, verifier string) (int, map[string]any) {
		return c.tokenRequest(tokenURL, url.Values{"grant_type": {"authorization_code"}, "client_id": {graphCLIClientID}, "code": {code},
			"redirect_uri": {app.redirect}, "code_verifier": {verifier}, "scope": {scope}})
	}
	status, body := redeem(code, verifier)
	if status != http.StatusOK {
		t.Fatalf("redeem code: %d %v", status, body)
	}
	cl := claimsOf(t, body["access_token"].(string))
	scp := strings.Fields(cl["scp"].(string))
	if cl["upn"] != "admin@"+info.TenantDomain || cl["idtyp"] != "user" || !has(scp, "Application.ReadWrite.All") || !has(scp, "User.Read") {
		t.Errorf("access token claims: upn %v idtyp %v scp %v", cl["upn"], cl["idtyp"], scp)
	}
	for _, k := range []string{"refresh_token", "id_token", "client_info"} {
		if body[k] == nil {
			t.Errorf("token response lacks %s", k)
		}
	}
	// The delegated token works on Graph for what it carries.
	user := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: body["access_token"].(string)}
	user.do("POST", "/applications", map[string]any{"displayName": "from the browser"}).must(t, http.StatusCreated)

	// A code is good once (observed AADSTS54005).
	status, again := redeem(code, verifier)
	stsError(t, status, again, 400, "invalid_grant", 54005)

	// Refresh: a new access token without the browser.
	status, refreshed := c.tokenRequest(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {graphCLIClientID},
		"refresh_token": {body["refresh_token"].(string)}, "scope": {scope}})
	if status != http.StatusOK || refreshed["access_token"] == nil {
		t.Errorf("refresh: %d %v", status, refreshed)
	}

	// A second sign-in with a wrong verifier: PKCE refuses the code.
	app2 := newLoopbackApp(t)
	_, challenge2 := pkce(t)
	b2 := browserFor(s, "admin@"+info.TenantDomain)
	if _, err := b2.Open(context.Background(), authorizeURL(s, graphCLIClientID, app2.redirect, scope, challenge2, "st-2")); err != nil {
		t.Fatal(err)
	}
	// Already consented: no consent page this time.
	if slices.Contains(b2.Pages, "Permissions requested") {
		t.Errorf("consent asked again: %v", b2.Pages)
	}
	status, body = c.tokenRequest(tokenURL, url.Values{"grant_type": {"authorization_code"}, "client_id": {graphCLIClientID},
		"code": {app2.result(t).Get("code")}, "redirect_uri": {app2.redirect}, "code_verifier": {verifier}})
	stsError(t, status, body, 400, "invalid_grant", 501481)
}

// TestAuthorizationConsentRules: a user without an admin role cannot
// consent to an admin-only scope (Need admin approval, then access_denied
// back to the app); declining consent is access_denied too; an unknown
// user name stays on the sign-in page; a redirect URI the app did not
// register is refused before anything is sent to it.
func TestAuthorizationConsentRules(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	if _, _, err := s.CreateUser(context.Background(), "plainuser", nil); err != nil {
		t.Fatal(err)
	}
	_, challenge := pkce(t)

	app := newLoopbackApp(t)
	b := browserFor(s, "plainuser@"+info.TenantDomain)
	if _, err := b.Open(context.Background(), authorizeURL(s, graphCLIClientID, app.redirect, "https://graph.microsoft.com/Application.ReadWrite.All openid", challenge, "x")); err != nil {
		t.Fatal(err)
	}
	got := app.result(t)
	if !slices.Contains(b.Pages, "Need admin approval") || got.Get("error") != "access_denied" || !strings.Contains(got.Get("error_description"), "AADSTS90094") {
		t.Errorf("plain user, admin scope: pages %v, response %v", b.Pages, got)
	}

	// A user scope the plain user may consent to; the token then carries
	// that scope only, and Graph refuses what it does not cover.
	app = newLoopbackApp(t)
	verifier, challenge := pkce(t)
	b = browserFor(s, "plainuser@"+info.TenantDomain)
	if _, err := b.Open(context.Background(), authorizeURL(s, graphCLIClientID, app.redirect, "https://graph.microsoft.com/User.Read openid", challenge, "y")); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	status, body := c.tokenRequest(s.URL()+"/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {graphCLIClientID}, "code": {app.result(t).Get("code")}, "redirect_uri": {app.redirect}, "code_verifier": {verifier}})
	if status != http.StatusOK {
		t.Fatalf("plain user, User.Read: %d %v", status, body)
	}
	user := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: body["access_token"].(string)}
	user.do("GET", "/me", nil).must(t, http.StatusOK)
	user.do("POST", "/applications", map[string]any{"displayName": "x"}).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

	// Cancel on the consent prompt.
	app = newLoopbackApp(t)
	b = browserFor(s, "admin@"+info.TenantDomain)
	b.Decline = true
	if _, err := b.Open(context.Background(), authorizeURL(s, "1950a258-227b-4e31-a9cf-717495945fc2", app.redirect, "https://graph.microsoft.com/Directory.Read.All", challenge, "z")); err != nil {
		t.Fatal(err)
	}
	if got := app.result(t); got.Get("error") != "access_denied" || !strings.Contains(got.Get("error_description"), "AADSTS65004") || got.Get("state") != "z" {
		t.Errorf("declined consent: %v", got)
	}

	// An unknown user name: the page says so and the browser gives up.
	b = browserFor(s, "nobody@"+info.TenantDomain)
	if _, err := b.Open(context.Background(), authorizeURL(s, graphCLIClientID, app.redirect, "https://graph.microsoft.com/User.Read", challenge, "w")); err == nil ||
		!strings.Contains(err.Error(), "This username may be incorrect") {
		t.Errorf("unknown user: %v", err)
	}

	// A tenant app without that redirect URI: Entra's error page, nothing
	// sent to the (attacker's) redirect URI.
	admin := adminClient(t, s)
	created := admin.do("POST", "/applications", map[string]any{"displayName": "web app", "web": map[string]any{"redirectUris": []any{"https://app.contoso.com/signin"}}}).must(t, http.StatusCreated)
	b = browserFor(s, "admin@"+info.TenantDomain)
	out, err := b.Open(context.Background(), authorizeURL(s, created["appId"].(string), app.redirect, "https://graph.microsoft.com/User.Read", challenge, "v"))
	if err == nil || !strings.Contains(err.Error(), "AADSTS50011") || out.Status != http.StatusBadRequest {
		t.Errorf("unregistered redirect URI: %v (status %d)", err, out.Status)
	}
	select {
	case v := <-app.got:
		t.Errorf("the unregistered redirect URI received %v", v)
	default:
	}
}
