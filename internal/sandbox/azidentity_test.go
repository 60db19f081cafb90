package sandbox_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// These tests run the real azidentity/MSAL Go stack against the sandbox:
// instance discovery, openid-configuration, the token endpoint and the
// access token it issues must all be acceptable to Microsoft's own client.

func clientOptions(hc *http.Client, c azcloud.Configuration) azcore.ClientOptions {
	return azcore.ClientOptions{Cloud: c, Transport: hc, Retry: policy.RetryOptions{MaxRetries: -1}}
}

func TestAzidentityClientSecretCredential(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tenant := range []string{info.TenantID, info.TenantDomain} {
		cred, err := azidentity.NewClientSecretCredential(tenant, info.ClientID, info.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(hc, azcloud.AzurePublic)})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
		if err != nil {
			t.Fatalf("GetToken (tenant %s): %v", tenant, err)
		}
		c := &client{t: t, s: s, hc: hc, base: "https://graph.microsoft.com/v1.0", token: tok.Token}
		org := validateCollection(t, "organization", c.do("GET", "/organization", nil).must(t, 200))
		if len(org) != 1 || org[0]["id"] != info.TenantID {
			t.Errorf("organization: %v", org)
		}
	}
	// MSAL must have gone through instance discovery and the tenant's
	// openid-configuration on login.microsoftonline.com.
	var sawDiscovery, sawOpenID bool
	for _, r := range s.Requests() {
		if r.Host == "login.microsoftonline.com" && strings.HasPrefix(r.Path, "/common/discovery/instance") {
			sawDiscovery = true
		}
		if r.Host == "login.microsoftonline.com" && strings.Contains(r.Path, "/v2.0/.well-known/openid-configuration") && r.Status == 200 {
			sawOpenID = true
		}
	}
	if !sawOpenID || !sawDiscovery {
		t.Errorf("MSAL did not go through instance discovery (%v) and openid-configuration (%v): %v", sawDiscovery, sawOpenID, s.Requests())
	}

	// A wrong secret surfaces Entra's AADSTS error through azidentity.
	bad, _ := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(hc, azcloud.AzurePublic)})
	_, err := bad.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("wrong secret: err = %v, want AADSTS7000215", err)
	}
}

// The sandbox's own address as a custom authority: MSAL validates it through
// instance discovery at login.microsoftonline.com (answered by the sandbox).
func TestAzidentityCustomAuthority(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	custom := azcloud.Configuration{ActiveDirectoryAuthorityHost: info.AuthorityHost + "/", Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{}}
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(hc, custom)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{info.GraphEndpoint + "/.default"}})
	if err != nil {
		t.Fatalf("GetToken with the sandbox authority: %v", err)
	}
	c := &client{t: t, s: s, hc: hc, base: info.GraphEndpoint + "/v1.0", token: tok.Token}
	validateCollection(t, "organization", c.do("GET", "/organization", nil).must(t, 200))
	discovered := false
	for _, r := range s.Requests() {
		if r.Host == "login.microsoftonline.com" && strings.HasPrefix(r.Path, "/common/discovery/instance") && r.Status == 200 {
			discovered = true
		}
	}
	if !discovered {
		t.Errorf("MSAL did not validate the custom authority through instance discovery")
	}
}

func TestAzidentityClientCertificateCredential(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	admin := adminClient(t, s)
	clientID, _ := createPrincipal(t, s, "cert app", []string{"Application.Read.All"}, nil)
	app := admin.do("GET", "/applications(appId='"+clientID+"')?$select=id", nil).must(t, 200)
	key, cert := selfSignedCert(t, "cert app", time.Now().Add(-time.Hour), time.Now().Add(30*24*time.Hour))
	admin.do("PATCH", "/applications/"+app["id"].(string), map[string]any{"keyCredentials": []any{map[string]any{
		"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(cert.Raw),
	}}}).must(t, 204)

	for _, c := range []struct {
		name  string
		cloud azcloud.Configuration
		scope string
		graph string
	}{
		{"public", azcloud.AzurePublic, "https://graph.microsoft.com/.default", "https://graph.microsoft.com"},
		{"usgov", azcloud.AzureGovernment, "https://graph.microsoft.us/.default", "https://graph.microsoft.us"},
		{"china", azcloud.AzureChina, "https://microsoftgraph.chinacloudapi.cn/.default", "https://microsoftgraph.chinacloudapi.cn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cred, err := azidentity.NewClientCertificateCredential(info.TenantID, clientID, []*x509.Certificate{cert}, key,
				&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(hc, c.cloud)})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{c.scope}})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			cl := claimsOf(t, tok.Token)
			if cl["appidacr"] != "2" || cl["aud"] != c.graph {
				t.Errorf("claims: %v", cl)
			}
			gc := &client{t: t, s: s, hc: hc, base: c.graph + "/v1.0", token: tok.Token}
			validateCollection(t, "application", gc.do("GET", "/applications?$top=2", nil).must(t, 200))
		})
	}
}

func TestAzidentityDeviceCodeCredential(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	var prompted string
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: clientOptions(hc, azcloud.AzurePublic),
		TenantID:      info.TenantID,
		ClientID:      "14d82eec-204b-4c2f-b7e8-296a70dab67e", // Microsoft Graph Command Line Tools
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			prompted = m.Message
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scopes := []string{"https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/Application.ReadWrite.All"}
	rec, err := cred.Authenticate(ctx, &policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if !strings.Contains(prompted, "enter the code") {
		t.Errorf("device code message: %q", prompted)
	}
	if rec.Username != "admin@"+info.TenantDomain || rec.TenantID != info.TenantID {
		t.Errorf("authentication record: %+v", rec)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	cl := claimsOf(t, tok.Token)
	if cl["idtyp"] != "user" || cl["upn"] != "admin@"+info.TenantDomain || !strings.Contains(cl["scp"].(string), "Application.ReadWrite.All") {
		t.Errorf("delegated claims: %v", cl)
	}
	c := &client{t: t, s: s, hc: hc, base: "https://graph.microsoft.com/v1.0", token: tok.Token}
	me := c.do("GET", "/me", nil).must(t, 200)
	validateEntity(t, "user", me)
	if me["userPrincipalName"] != "admin@"+info.TenantDomain {
		t.Errorf("/me: %v", me)
	}
	// The consent recorded a Principal grant for the Graph CLI's new SP.
	admin := adminClient(t, s)
	sp := admin.do("GET", "/servicePrincipals(appId='14d82eec-204b-4c2f-b7e8-296a70dab67e')", nil).must(t, 200)
	grants := validateCollection(t, "oAuth2PermissionGrant", admin.do("GET", "/oauth2PermissionGrants?$filter=clientId eq '"+sp["id"].(string)+"'", nil).must(t, 200))
	if len(grants) != 1 || grants[0]["consentType"] != "Principal" || !strings.Contains(grants[0]["scope"].(string), "Application.ReadWrite.All") {
		t.Errorf("consent grant: %v", grants)
	}
}
