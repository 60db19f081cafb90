package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// armCall sends GET url with the token through the sandbox transport (TLS
// verified for the real host name) and decodes the JSON answer.
func armCall(t *testing.T, s *sandbox.Server, rawURL, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := sandboxtest.Client(s).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %q", rawURL, resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

// appToken gets a client-credentials token at an authority for a v2 scope
// or (v1) a resource.
func appToken(t *testing.T, s *sandbox.Server, authority string, v2 bool, resource string) (string, map[string]any) {
	t.Helper()
	info := s.Tenant()
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret}}
	endpoint := authority + "/" + info.TenantID + "/oauth2/token"
	if v2 {
		endpoint = authority + "/" + info.TenantID + "/oauth2/v2.0/token"
		form.Set("scope", resource)
	} else {
		form.Set("resource", resource)
	}
	status, body := c.tokenRequest(endpoint, form)
	if status != http.StatusOK {
		t.Fatalf("token for %s at %s: %d %v", resource, authority, status, body)
	}
	tok := body["access_token"].(string)
	return tok, claimsOf(t, tok)
}

func armError(body map[string]any) (string, string) {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

// TestARMSignIn is what `az login --service-principal --allow-no-subscriptions`
// needs (endpoints.md §14): a token for https://management.core.windows.net/
// (as az asks: v2 scope with the double slash, and the v1 resource form),
// GET /subscriptions and GET /tenants with an api-version on
// management.azure.com.
func TestARMSignIn(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	const login = "https://login.microsoftonline.com"
	tok, claims := appToken(t, s, login, true, "https://management.core.windows.net//.default")
	if claims["aud"] != "https://management.core.windows.net/" || claims["tid"] != info.TenantID || claims["appid"] != info.ClientID {
		t.Errorf("ARM token claims: aud %v tid %v appid %v", claims["aud"], claims["tid"], claims["appid"])
	}
	v1, v1Claims := appToken(t, s, login, false, "https://management.azure.com/")
	if v1Claims["aud"] != "https://management.azure.com" && v1Claims["aud"] != "https://management.azure.com/" {
		t.Errorf("v1 ARM token aud %v", v1Claims["aud"])
	}

	for _, token := range []string{tok, v1} {
		status, body := armCall(t, s, "https://management.azure.com/subscriptions?api-version=2022-12-01", token)
		if status != http.StatusOK || body["value"] == nil || len(body["value"].([]any)) != 0 {
			t.Errorf("GET /subscriptions: %d %v, want 200 and an empty value", status, body)
		}
	}
	status, body := armCall(t, s, "https://management.azure.com/tenants?api-version=2022-12-01", tok)
	tenants, _ := body["value"].([]any)
	if status != http.StatusOK || len(tenants) != 1 {
		t.Fatalf("GET /tenants: %d %v", status, body)
	}
	ten := tenants[0].(map[string]any)
	if ten["id"] != "/tenants/"+info.TenantID || ten["tenantId"] != info.TenantID || ten["defaultDomain"] != info.TenantDomain ||
		ten["tenantCategory"] != "Home" || ten["displayName"] != info.DisplayName {
		t.Errorf("GET /tenants: %v", ten)
	}
	// ARM's paths are routed by Host: the same path on the login host is
	// the authority's (a tenant segment), and on Graph's it is not ARM.
	req, _ := http.NewRequest(http.MethodGet, "https://login.microsoftonline.com/tenants?api-version=2022-12-01", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := sandboxtest.Client(s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("GET /tenants on the login host answered 200 like ARM")
	}
}

// TestARMRejects quotes what ARM answers (endpoints.md §14): a token whose
// aud is not one of the four management audiences gets 401
// InvalidAuthenticationTokenAudience, a request without api-version 400
// MissingApiVersionParameter; a missing token 401.
func TestARMRejects(t *testing.T) {
	s := newSandbox(t)
	const login = "https://login.microsoftonline.com"
	armTok, _ := appToken(t, s, login, true, "https://management.core.windows.net//.default")
	graphTok, _ := appToken(t, s, login, true, "https://graph.microsoft.com/.default")

	status, body := armCall(t, s, "https://management.azure.com/subscriptions?api-version=2022-12-01", graphTok)
	code, msg := armError(body)
	if status != http.StatusUnauthorized || code != "InvalidAuthenticationTokenAudience" ||
		!strings.Contains(msg, "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'") ||
		!strings.Contains(msg, "https://graph.microsoft.com") {
		t.Errorf("Graph token at ARM: %d %s %q", status, code, msg)
	}
	status, body = armCall(t, s, "https://management.azure.com/subscriptions", armTok)
	if code, _ := armError(body); status != http.StatusBadRequest || code != "MissingApiVersionParameter" {
		t.Errorf("no api-version: %d %v", status, body)
	}
	status, body = armCall(t, s, "https://management.azure.com/subscriptions?api-version=2022-12-01", "")
	if code, _ := armError(body); status != http.StatusUnauthorized || code != "AuthenticationFailed" {
		t.Errorf("no token: %d %v", status, body)
	}
	// And the other way round: Graph refuses an ARM token.
	req, _ := http.NewRequest(http.MethodGet, "https://graph.microsoft.com/v1.0/organization", nil)
	req.Header.Set("Authorization", "Bearer "+armTok)
	resp, err := sandboxtest.Client(s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ARM token at Graph: %d, want 401", resp.StatusCode)
	}
}

// TestARMNationalClouds: the US Government and China management hosts
// accept tokens from their own cloud's authority for their own management
// audience, and refuse the global cloud's.
func TestARMNationalClouds(t *testing.T) {
	s := newSandbox(t)
	global, _ := appToken(t, s, "https://login.microsoftonline.com", true, "https://management.core.windows.net//.default")
	for _, c := range []struct{ login, resource, host string }{
		{"https://login.microsoftonline.us", "https://management.core.usgovcloudapi.net/", "management.usgovcloudapi.net"},
		{"https://login.chinacloudapi.cn", "https://management.core.chinacloudapi.cn/", "management.chinacloudapi.cn"},
	} {
		tok, claims := appToken(t, s, c.login, true, c.resource+"/.default")
		if claims["aud"] != c.resource {
			t.Errorf("%s: aud %v", c.login, claims["aud"])
		}
		if status, body := armCall(t, s, "https://"+c.host+"/subscriptions?api-version=2022-12-01", tok); status != http.StatusOK {
			t.Errorf("%s/subscriptions with its cloud's token: %d %v", c.host, status, body)
		}
		status, body := armCall(t, s, "https://"+c.host+"/subscriptions?api-version=2022-12-01", global)
		if code, _ := armError(body); status != http.StatusUnauthorized || code != "InvalidAuthenticationTokenAudience" {
			t.Errorf("%s with a global ARM token: %d %v", c.host, status, body)
		}
		// A national authority does not issue tokens for the global ARM.
		cl := &client{t: t, s: s, hc: sandboxtest.Client(s)}
		info := s.Tenant()
		st, b := cl.tokenRequest(c.login+"/"+info.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {info.ClientID}, "client_secret": {info.ClientSecret}, "scope": {"https://management.core.windows.net//.default"}})
		if st != http.StatusBadRequest || !strings.Contains(b["error_description"].(string), "AADSTS500011") {
			t.Errorf("%s issued a global ARM token: %d %v", c.login, st, b)
		}
	}
}
