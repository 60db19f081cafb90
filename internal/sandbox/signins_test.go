package sandbox_test

import (
	"context"
	"crypto/sha1" //nolint:gosec // x5t is the SHA-1 thumbprint.
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// betaOnly are the signIn properties of beta that v1.0's signIn lacks.
var betaOnly = map[string]bool{"signInEventTypes": true, "servicePrincipalCredentialKeyId": true, "servicePrincipalCredentialThumbprint": true,
	"clientCredentialType": true, "resourceServicePrincipalId": true, "userType": true}

// validateBetaSignIns checks a beta sign-in list: the v1.0 properties
// against the v1.0 type, the beta ones by hand.
func validateBetaSignIns(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	if ctx, _ := body["@odata.context"].(string); !strings.HasSuffix(ctx, "/beta/$metadata#auditLogs/signIns") {
		t.Errorf("beta context %q", ctx)
	}
	var out []map[string]any
	for _, it := range body["value"].([]any) {
		m := it.(map[string]any)
		v1 := map[string]any{}
		for k, v := range m {
			if !betaOnly[k] {
				v1[k] = v
			}
		}
		validateCheck(t, "signIn", v1)
		if len(strs(m["signInEventTypes"])) != 1 {
			t.Errorf("signInEventTypes %v", m["signInEventTypes"])
		}
		out = append(out, m)
	}
	return out
}

func auditor(t *testing.T, s *sandbox.Server, roles ...string) *client {
	t.Helper()
	id, secret := createPrincipal(t, s, "auditor "+strings.Join(roles, "+"), roles, nil)
	return appClient(t, s, id, secret)
}

// TestSignInLogs: the token endpoint logs service principal sign-ins with
// the key id of the secret or certificate used; beta lists them when
// filtered on signInEventTypes, v1.0 lists interactive sign-ins only.
func TestSignInLogs(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	clientID, secret := createPrincipal(t, s, "signing in", []string{"Organization.Read.All"}, nil)
	app := admin.do("GET", "/applications(appId='"+clientID+"')?$select=id,passwordCredentials", nil).must(t, 200)
	secretKeyID := app["passwordCredentials"].([]any)[0].(map[string]any)["keyId"].(string)
	now := time.Now()
	key, cert := selfSignedCert(t, "signing in", now.Add(-time.Hour), now.Add(24*time.Hour))
	admin.do("PATCH", "/applications/"+app["id"].(string), map[string]any{"keyCredentials": []any{map[string]any{
		"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(cert.Raw)}}}).must(t, 204)
	certKeyID := admin.do("GET", "/applications/"+app["id"].(string), nil).must(t, 200)["keyCredentials"].([]any)[0].(map[string]any)["keyId"].(string)
	thumb := sha1.Sum(cert.Raw) //nolint:gosec

	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	tokenURL := "https://login.microsoftonline.com/" + s.Tenant().TenantID + "/oauth2/v2.0/token"
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {"https://graph.microsoft.com/.default"}}
	withSecret := url.Values{"client_secret": {secret}}
	for k, v := range form {
		withSecret[k] = v
	}
	if status, body := c.tokenRequest(tokenURL, withSecret); status != 200 {
		t.Fatalf("secret sign-in: %d %v", status, body)
	}
	withSecret.Set("client_secret", "wrong")
	status, body := c.tokenRequest(tokenURL, withSecret)
	stsError(t, status, body, 401, "invalid_client", 7000215)
	assertion := signJWT(t, key, "RS256", map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(thumb[:])},
		map[string]any{"aud": tokenURL, "iss": clientID, "sub": clientID, "jti": "j", "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	withCert := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	for k, v := range form {
		withCert[k] = v
	}
	if status, body := c.tokenRequest(tokenURL, withCert); status != 200 {
		t.Fatalf("certificate sign-in: %d %v", status, body)
	}

	// AuditLog.Read.All and Directory.Read.All, both (signin-list).
	auditor(t, s, "AuditLog.Read.All").do("GET", "/auditLogs/signIns", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	admin.do("GET", "/auditLogs/signIns", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	aud := auditor(t, s, "AuditLog.Read.All", "Directory.Read.All")

	filter := url.QueryEscape("signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '" + clientID + "'")
	betaClient := *aud
	betaClient.base = s.URL() + "/beta"
	got := validateBetaSignIns(t, betaClient.do("GET", "/auditLogs/signIns?$filter="+filter, nil).must(t, 200))
	if len(got) != 3 {
		t.Fatalf("service principal sign-ins of the app: %d, want 3: %v", len(got), got)
	}
	// Newest first: certificate, failed secret, secret.
	want := []struct {
		keyID, credType string
		errorCode       float64
	}{{certKeyID, "certificate", 0}, {"", "clientSecret", 7000215}, {secretKeyID, "clientSecret", 0}}
	for i, w := range want {
		g := got[i]
		if g["appId"] != clientID || strs(g["signInEventTypes"])[0] != "servicePrincipal" || g["clientCredentialType"] != w.credType ||
			g["status"].(map[string]any)["errorCode"] != w.errorCode || g["resourceId"] != nil && w.errorCode != 0 {
			t.Errorf("sign-in %d: %v", i, g)
		}
		if w.keyID != "" && g["servicePrincipalCredentialKeyId"] != w.keyID {
			t.Errorf("sign-in %d: servicePrincipalCredentialKeyId %v, want %s", i, g["servicePrincipalCredentialKeyId"], w.keyID)
		}
		if w.errorCode == 0 && g["resourceId"] != graphAppID {
			t.Errorf("sign-in %d: resourceId %v", i, g["resourceId"])
		}
	}
	if got[0]["servicePrincipalCredentialThumbprint"] != strings.ToUpper(hex.EncodeToString(thumb[:])) {
		t.Errorf("thumbprint %v", got[0]["servicePrincipalCredentialThumbprint"])
	}
	// Other forms a client uses: a time window, $top, ascending order.
	since := url.QueryEscape("signInEventTypes/any(t: t eq 'servicePrincipal') and createdDateTime ge " + now.Add(-time.Minute).UTC().Format(time.RFC3339))
	if n := len(validateBetaSignIns(t, betaClient.do("GET", "/auditLogs/signIns?$filter="+since+"&$top=2", nil).must(t, 200))); n != 2 {
		t.Errorf("$top=2 gave %d", n)
	}
	asc := validateBetaSignIns(t, betaClient.do("GET", "/auditLogs/signIns?$filter="+filter+"&$orderby=createdDateTime asc", nil).must(t, 200))
	if len(asc) != 3 || asc[0]["servicePrincipalCredentialKeyId"] != secretKeyID {
		t.Errorf("ascending: %v", asc)
	}
	future := url.QueryEscape("signInEventTypes/any(t: t eq 'servicePrincipal') and createdDateTime ge " + now.Add(time.Hour).UTC().Format(time.RFC3339))
	if n := len(validateBetaSignIns(t, betaClient.do("GET", "/auditLogs/signIns?$filter="+future, nil).must(t, 200))); n != 0 {
		t.Errorf("sign-ins from the future: %d", n)
	}
	// Without the event type filter beta lists interactive sign-ins only.
	if n := len(validateBetaSignIns(t, betaClient.do("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("appId eq '"+clientID+"'"), nil).must(t, 200))); n != 0 {
		t.Errorf("unfiltered beta list shows %d service principal sign-ins", n)
	}
	// v1.0 knows no signInEventTypes and lists no service principal sign-ins.
	aud.do("GET", "/auditLogs/signIns?$filter="+filter, nil).wantError(t, 400, "Request_UnsupportedQuery", "signInEventTypes")
	if v1 := validateCollection(t, "signIn", aud.do("GET", "/auditLogs/signIns", nil).must(t, 200)); len(v1) != 0 {
		t.Errorf("v1.0 lists service principal sign-ins: %v", v1)
	}
	// Other beta resources are not served.
	betaClient.do("GET", "/applications", nil).wantError(t, 400, "BadRequest", "v1.0 only")

	// A device-code sign-in is an interactive one, in v1.0 too.
	status, _ = deviceCodeToken(t, s, graphCLIClientID, "https://graph.microsoft.com/User.Read")
	if status != 200 {
		t.Fatalf("device code: %d", status)
	}
	v1 := validateCollection(t, "signIn", aud.do("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("appId eq '"+graphCLIClientID+"'"), nil).must(t, 200))
	if len(v1) != 1 || v1[0]["isInteractive"] != true || v1[0]["userPrincipalName"] != "admin@"+s.Tenant().TenantDomain {
		t.Errorf("interactive sign-ins: %v", v1)
	}
	one := aud.do("GET", "/auditLogs/signIns/"+v1[0]["id"].(string), nil).must(t, 200)
	if one["id"] != v1[0]["id"] {
		t.Errorf("get: %v", one)
	}
}

// TestSignInLogsDelegated: a user reads sign-in logs only with a role that
// may read sign-in reports.
func TestSignInLogsDelegated(t *testing.T) {
	s := newSandbox(t)
	consentForAll(t, s, graphCLIClientID, "AuditLog.Read.All", "Directory.Read.All")
	scopes := graphScopes("AuditLog.Read.All", "Directory.Read.All")
	if _, _, err := s.CreateUser(context.Background(), "plain", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateUser(context.Background(), "secreader", []string{"Security Reader"}); err != nil {
		t.Fatal(err)
	}
	userClient(t, s, "plain", graphCLIClientID, scopes).do("GET", "/auditLogs/signIns", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	validateCollection(t, "signIn", userClient(t, s, "secreader", graphCLIClientID, scopes).do("GET", "/auditLogs/signIns", nil).must(t, 200))
}
