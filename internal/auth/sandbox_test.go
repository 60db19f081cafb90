package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatal("token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// A first device-code sign-in consents to exactly DelegatedScopes: the
// sandbox records consent the way Entra does, and puts every consented
// scope in scp.
func TestSandboxDeviceCodeConsentsToLeastPrivilege(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var prompt string
	cred, err := NewCredential(Options{
		Method: MethodDeviceCode, Tenant: s.Tenant().TenantID, Cloud: cloud.USGov,
		HTTPClient: sandboxtest.Client(s), Getenv: env(nil),
		DeviceCodePrompt: func(_ context.Context, m string) error { prompt = m; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{cloud.USGov.GraphScope()}})
	if err != nil {
		t.Fatalf("device-code sign-in: %v", err)
	}
	if !strings.Contains(prompt, "devicelogin") {
		t.Errorf("prompt = %q", prompt)
	}
	c := claimsOf(t, tok.Token)
	scp, _ := c["scp"].(string)
	var got []string
	for _, sc := range strings.Fields(scp) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			// OpenID Connect scopes MSAL adds to every sign-in; not Graph permissions.
		default:
			got = append(got, sc)
		}
	}
	sort.Strings(got)
	want := append([]string(nil), DelegatedScopes...)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("consented scopes = %v, want exactly %v", got, want)
	}
	if aud, _ := c["aud"].(string); strings.TrimSuffix(aud, "/") != "https://graph.microsoft.us" {
		t.Errorf("aud = %q", aud)
	}
	if appid, _ := c["appid"].(string); appid != DefaultLoginClientID {
		t.Errorf("signed in through %q", appid)
	}
}

func TestSandboxEnvOnTheDoDCloud(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cred, err := NewCredential(Options{
		Method: MethodEnv, Cloud: cloud.USGovDoD, HTTPClient: sandboxtest.Client(s),
		Getenv: env(map[string]string{"AZURE_TENANT_ID": info.TenantID, "AZURE_CLIENT_ID": info.ClientID, "AZURE_CLIENT_SECRET": info.ClientSecret}),
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{cloud.USGovDoD.GraphScope()}})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if aud, _ := claimsOf(t, tok.Token)["aud"].(string); strings.TrimSuffix(aud, "/") != "https://dod-graph.microsoft.us" {
		t.Errorf("aud = %q", aud)
	}
	for _, r := range s.Requests() {
		if r.Kind == "token" && r.Host != "login.microsoftonline.us" {
			t.Errorf("sign-in request to %s%s", r.Host, r.Path)
		}
	}

	// A wrong secret is explained, naming the variable.
	bad, err := NewCredential(Options{
		Method: MethodEnv, Cloud: cloud.USGovDoD, HTTPClient: sandboxtest.Client(s),
		Getenv: env(map[string]string{"AZURE_TENANT_ID": info.TenantID, "AZURE_CLIENT_ID": info.ClientID, "AZURE_CLIENT_SECRET": "wrong-secret-value"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{cloud.USGovDoD.GraphScope()}})
	if err == nil || !strings.Contains(err.Error(), "the client secret in AZURE_CLIENT_SECRET is wrong or expired") || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("wrong secret: %v", err)
	}
}
