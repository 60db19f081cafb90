package sandbox_test

import (
	"context"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// stsError checks an Entra token-endpoint error body: the OAuth error, the
// AADSTS code in error_description and error_codes, and the trace fields.
func stsError(t *testing.T, status int, body map[string]any, wantStatus int, wantErr string, wantCode int) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %v", status, wantStatus, body)
	}
	if body["error"] != wantErr {
		t.Errorf("error = %v, want %s", body["error"], wantErr)
	}
	desc, _ := body["error_description"].(string)
	if !strings.HasPrefix(desc, "AADSTS"+itoa(wantCode)+": ") {
		t.Errorf("error_description = %q, want AADSTS%d", desc, wantCode)
	}
	for _, f := range []string{"Trace ID: ", "Correlation ID: ", "Timestamp: "} {
		if !strings.Contains(desc, f) {
			t.Errorf("error_description lacks %q", f)
		}
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(wantCode) {
		t.Errorf("error_codes = %v, want [%d]", codes, wantCode)
	}
	for _, f := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
		if s, _ := body[f].(string); s == "" {
			t.Errorf("%s missing", f)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func TestClientSecretTokenClaims(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}

	// Against the sandbox's own authority and Graph address.
	status, body := c.tokenRequest(info.AuthorityHost+"/"+info.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret},
		"scope": {info.GraphEndpoint + "/.default openid profile offline_access"},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
		t.Errorf("v2 token response shape: %v", body)
	}
	if _, hasScope := body["scope"]; hasScope {
		t.Errorf("client credentials responses carry no scope: %v", body)
	}
	cl := claimsOf(t, body["access_token"].(string))
	if cl["aud"] != info.GraphEndpoint {
		t.Errorf("aud = %v, want %s", cl["aud"], info.GraphEndpoint)
	}
	if cl["tid"] != info.TenantID || cl["appid"] != info.ClientID || cl["idtyp"] != "app" || cl["appidacr"] != "1" || cl["ver"] != "1.0" {
		t.Errorf("claims: %v", cl)
	}
	roles := strs(cl["roles"])
	for _, r := range []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "Organization.Read.All"} {
		if !has(roles, r) {
			t.Errorf("roles %v lack %s", roles, r)
		}
	}
	if !has(strs(cl["wids"]), "62e90394-69f5-4237-9190-012177145e10") {
		t.Errorf("wids %v lack Global Administrator", cl["wids"])
	}
	if oid, _ := cl["oid"].(string); !guidPattern.MatchString(oid) || cl["sub"] != oid {
		t.Errorf("oid/sub: %v %v", cl["oid"], cl["sub"])
	}
	if _, ok := cl["scp"]; ok {
		t.Errorf("app-only token carries scp")
	}

	// Against the real global authority (reached through the transport),
	// the tenant given as its verified domain.
	status, body = c.tokenRequest("https://login.microsoftonline.com/"+info.TenantDomain+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if status != http.StatusOK {
		t.Fatalf("token via login.microsoftonline.com: %d %v", status, body)
	}
	cl = claimsOf(t, body["access_token"].(string))
	if cl["aud"] != "https://graph.microsoft.com" || cl["iss"] != "https://sts.windows.net/"+info.TenantID+"/" {
		t.Errorf("global token aud/iss = %v / %v", cl["aud"], cl["iss"])
	}

	// v1 endpoint with resource: string numbers and expires_on.
	status, body = c.tokenRequest("https://login.microsoftonline.com/"+info.TenantID+"/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret},
		"resource": {"https://graph.microsoft.com"},
	})
	if status != http.StatusOK || body["expires_in"] != "3599" || body["resource"] != "https://graph.microsoft.com" {
		t.Fatalf("v1 token: %d %v", status, body)
	}
	if _, ok := body["expires_on"].(string); !ok {
		t.Errorf("v1 response lacks expires_on: %v", body)
	}
}

func TestTokenErrors(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	tokenURL := "https://login.microsoftonline.com/" + info.TenantID + "/oauth2/v2.0/token"
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name     string
		endpoint string
		form     url.Values
		status   int
		err      string
		code     int
		contains string
	}{
		{"wrong secret", tokenURL, form("client_secret", "not-the-secret"), 401, "invalid_client", 7000215, "Invalid client secret provided"},
		{"unknown client", tokenURL, form("client_id", "11111111-2222-3333-4444-555555555555"), 400, "unauthorized_client", 700016, "Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory"},
		{"no credential", tokenURL, form("client_secret", ""), 401, "invalid_client", 7000218, "'client_assertion' or 'client_secret'"},
		{"unknown tenant", "https://login.microsoftonline.com/99999999-2222-3333-4444-555555555555/oauth2/v2.0/token", form(), 400, "invalid_tenant", 90002, "Tenant '99999999-2222-3333-4444-555555555555' not found"},
		{"delegated scope in client credentials", tokenURL, form("scope", "https://graph.microsoft.com/User.Read"), 400, "invalid_scope", 1002012, "must have a scope value with /.default"},
		{"unknown resource", tokenURL, form("scope", "https://example.com/.default"), 400, "invalid_resource", 500011, "The resource principal named https://example.com was not found"},
		{"other cloud's Graph", tokenURL, form("scope", "https://graph.microsoft.us/.default"), 400, "invalid_resource", 500011, "graph.microsoft.us"},
		{"missing scope", tokenURL, form("scope", ""), 400, "invalid_request", 90014, "'scope' is missing"},
		{"unsupported grant", tokenURL, form("grant_type", "password"), 400, "unsupported_grant_type", 70003, "password"},
		{"common with client credentials", "https://login.microsoftonline.com/common/oauth2/v2.0/token", form(), 400, "invalid_request", 50059, "No tenant-identifying information"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.tokenRequest(tc.endpoint, tc.form)
			stsError(t, status, body, tc.status, tc.err, tc.code)
			if d, _ := body["error_description"].(string); !strings.Contains(d, tc.contains) {
				t.Errorf("error_description %q lacks %q", d, tc.contains)
			}
			if strings.Contains(body["error_description"].(string), info.ClientSecret) {
				t.Errorf("error leaks the secret")
			}
		})
	}
}

func TestExpiredSecret(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	clientID, _ := createPrincipal(t, s, "expiring", nil, nil)
	app := admin.do("GET", "/applications(appId='"+clientID+"')?$select=id", nil).must(t, 200)
	past := time.Now().Add(-48 * time.Hour).UTC()
	cred := admin.do("POST", "/applications/"+app["id"].(string)+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"displayName": "old", "startDateTime": past.Format(time.RFC3339), "endDateTime": past.Add(time.Hour).Format(time.RFC3339),
	}}).must(t, 200)
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	status, body := c.tokenRequest(s.URL()+"/"+s.Tenant().TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {cred["secretText"].(string)}, "scope": {s.URL() + "/.default"},
	})
	stsError(t, status, body, 401, "invalid_client", 7000222)
}

// createPrincipal seeds an app+SP through the public API.
func createPrincipal(t *testing.T, s *sandbox.Server, name string, roles, dirRoles []string) (string, string) {
	t.Helper()
	id, secret, err := s.CreatePrincipal(context.Background(), name, roles, dirRoles)
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

func TestCertificateAssertion(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	admin := adminClient(t, s)
	clientID, _ := createPrincipal(t, s, "cert client", []string{"Organization.Read.All"}, nil)
	app := admin.do("GET", "/applications(appId='"+clientID+"')?$select=id", nil).must(t, 200)
	appObj := app["id"].(string)
	key, cert := selfSignedCert(t, "cert client", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	admin.do("PATCH", "/applications/"+appObj, map[string]any{"keyCredentials": []any{map[string]any{
		"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(cert.Raw), "displayName": "CN=cert client",
	}}}).must(t, 204)

	s1 := sha1.Sum(cert.Raw) //nolint:gosec
	s256 := sha256.Sum256(cert.Raw)
	tokenURL := "https://login.microsoftonline.com/" + info.TenantID + "/oauth2/v2.0/token"
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"aud": tokenURL, "iss": clientID, "sub": clientID, "jti": "x", "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	rs256 := map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(s1[:])}
	// MSAL Go sends x5t#S256 in standard base64 with padding.
	ps256 := map[string]any{"x5t#S256": base64.StdEncoding.EncodeToString(s256[:])}
	otherKey, _ := selfSignedCert(t, "intruder", now.Add(-time.Hour), now.Add(time.Hour))
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	post := func(assertion string) (int, map[string]any) {
		return c.tokenRequest(tokenURL, url.Values{
			"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
		})
	}
	for _, tc := range []struct {
		name string
		alg  string
		hdr  map[string]any
	}{{"RS256 x5t", "RS256", rs256}, {"PS256 x5t#S256", "PS256", ps256}} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(signJWT(t, key, tc.alg, tc.hdr, claims(nil)))
			if status != 200 {
				t.Fatalf("assertion rejected: %d %v", status, body)
			}
			cl := claimsOf(t, body["access_token"].(string))
			if cl["appidacr"] != "2" || !has(strs(cl["roles"]), "Organization.Read.All") {
				t.Errorf("claims: %v", cl)
			}
		})
	}
	errCases := []struct {
		name      string
		assertion string
		code      int
	}{
		{"signed by another key", signJWT(t, otherKey, "RS256", rs256, claims(nil)), 700027},
		{"unknown thumbprint", signJWT(t, key, "RS256", map[string]any{"x5t": "AAAAAAAAAAAAAAAAAAAAAAAAAAA"}, claims(nil)), 700027},
		{"wrong audience", signJWT(t, key, "RS256", rs256, claims(func(m map[string]any) { m["aud"] = "https://login.microsoftonline.com/common/oauth2/v2.0/token" })), 50012},
		{"wrong issuer", signJWT(t, key, "RS256", rs256, claims(func(m map[string]any) { m["iss"] = info.ClientID })), 700021},
		{"expired", signJWT(t, key, "RS256", rs256, claims(func(m map[string]any) {
			m["nbf"], m["exp"] = now.Add(-time.Hour).Unix(), now.Add(-50*time.Minute).Unix()
		})), 700024},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.assertion)
			wantStatus, wantErr := 401, "invalid_client"
			stsError(t, status, body, wantStatus, wantErr, tc.code)
		})
	}
}

func TestDiscoveryAndOpenIDConfiguration(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	get := func(u string) (int, map[string]any) {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := jsonDecode(resp.Body, &m); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		return resp.StatusCode, m
	}
	for _, host := range []string{"https://login.microsoftonline.com", "https://login.microsoftonline.us", "https://login.chinacloudapi.cn", info.AuthorityHost} {
		for _, tenant := range []string{info.TenantID, info.TenantDomain, "organizations"} {
			status, doc := get(host + "/" + tenant + "/v2.0/.well-known/openid-configuration")
			if status != 200 {
				t.Fatalf("%s/%s openid-configuration: %d %v", host, tenant, status, doc)
			}
			// MSAL requires the issuer's host to be the authority's.
			for _, k := range []string{"issuer", "token_endpoint", "authorization_endpoint", "device_authorization_endpoint", "jwks_uri"} {
				if v, _ := doc[k].(string); !strings.HasPrefix(v, host+"/") {
					t.Errorf("%s/%s: %s = %q not on the authority host", host, tenant, k, v)
				}
			}
		}
	}
	status, doc := get("https://login.microsoftonline.com/" + info.TenantID + "/.well-known/openid-configuration")
	if status != 200 || doc["issuer"] != "https://sts.windows.net/"+info.TenantID+"/" || !strings.HasSuffix(doc["token_endpoint"].(string), "/oauth2/token") {
		t.Errorf("v1 openid-configuration: %v", doc)
	}
	status, doc = get("https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(info.AuthorityHost+"/"+info.TenantID+"/oauth2/v2.0/authorize"))
	if status != 200 || doc["tenant_discovery_endpoint"] != info.AuthorityHost+"/"+info.TenantID+"/v2.0/.well-known/openid-configuration" {
		t.Errorf("instance discovery for the sandbox authority: %d %v", status, doc)
	}
	status, doc = get("https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape("https://login.example.com/x/oauth2/v2.0/authorize"))
	if status != 400 || doc["error"] != "invalid_instance" {
		t.Errorf("instance discovery for an unknown host: %d %v", status, doc)
	}
	status, doc = get("https://login.microsoftonline.com/" + info.TenantID + "/discovery/v2.0/keys")
	keys, _ := doc["keys"].([]any)
	if status != 200 || len(keys) != 1 {
		t.Fatalf("jwks: %d %v", status, doc)
	}
	status, doc = get("https://login.microsoftonline.com/nope.example/v2.0/.well-known/openid-configuration")
	stsError(t, status, doc, 400, "invalid_tenant", 90002)
}

func TestTransportRefusesOtherHosts(t *testing.T) {
	s := newSandbox(t)
	hc := sandboxtest.Client(s)
	_, err := hc.Get("https://example.com/")
	if err == nil || !strings.Contains(err.Error(), "refusing to dial") {
		t.Fatalf("GET example.com through the sandbox transport: err = %v, want a refusal", err)
	}
	resp, err := hc.Get("https://graph.microsoft.us/v1.0/organization")
	if err != nil {
		t.Fatalf("graph.microsoft.us must reach the sandbox: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("unauthenticated Graph request: %d, want 401", resp.StatusCode)
	}
}

func TestTokenAudienceMustMatchGraphHost(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	tok := func(authority, scope string) string {
		c := &client{t: t, s: s, hc: hc}
		status, body := c.tokenRequest(authority+"/"+info.TenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret}, "scope": {scope},
		})
		if status != 200 {
			t.Fatalf("token %s %s: %d %v", authority, scope, status, body)
		}
		return body["access_token"].(string)
	}
	global := tok("https://login.microsoftonline.com", "https://graph.microsoft.com/.default")
	gov := tok("https://login.microsoftonline.us", "https://graph.microsoft.us/.default")
	dod := tok("https://login.microsoftonline.us", "https://dod-graph.microsoft.us/.default")
	own := tok(info.AuthorityHost, info.GraphEndpoint+"/.default")
	cases := []struct {
		base  string
		token string
		ok    bool
	}{
		{"https://graph.microsoft.com", global, true},
		{"https://graph.microsoft.us", gov, true},
		{"https://dod-graph.microsoft.us", dod, true},
		{info.GraphEndpoint, own, true},
		{"https://graph.microsoft.us", global, false},
		{"https://graph.microsoft.com", gov, false},
		{"https://dod-graph.microsoft.us", gov, false},
		{"https://graph.microsoft.com", own, false},
		{info.GraphEndpoint, global, false},
	}
	for _, tc := range cases {
		c := &client{t: t, s: s, hc: hc, base: tc.base + "/v1.0", token: tc.token}
		r := c.do("GET", "/organization", nil)
		if tc.ok {
			validateCollection(t, "organization", r.must(t, 200))
		} else {
			r.wantError(t, 401, "InvalidAuthenticationToken", "Invalid audience")
		}
	}
	c := &client{t: t, s: s, hc: hc, base: info.GraphEndpoint + "/v1.0"}
	c.do("GET", "/organization", nil).wantError(t, 401, "InvalidAuthenticationToken", "Access token is empty.")
	c.token = "not.a.jwt"
	c.do("GET", "/organization", nil).wantError(t, 401, "InvalidAuthenticationToken", "")
	// A token signed by someone else is rejected even with the right claims.
	key, _ := selfSignedCert(t, "forger", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	c.token = signJWT(t, key, "RS256", nil, claimsOf(t, own))
	c.do("GET", "/organization", nil).wantError(t, 401, "InvalidAuthenticationToken", "")
}
