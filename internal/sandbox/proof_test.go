package sandbox_test

import (
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is the SHA-1 thumbprint.
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestAddKeyProof: the proof of addKey/removeKey (endpoints.md §1.7/§1.8,
// libraries.md §6) — aud 00000002-…, iss the application's object id,
// nbf/exp at most ten minutes apart, signed by one of the application's
// valid certificates; an application rolls its own keys without any Graph
// permission, and the new certificate signs in.
func TestAddKeyProof(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	clientID, secret := createPrincipal(t, s, "roller", nil, nil) // no Graph permission at all
	app := admin.do("GET", "/applications(appId='"+clientID+"')?$select=id", nil).must(t, 200)
	appObj := app["id"].(string)
	now := time.Now()
	keyOld, certOld := selfSignedCert(t, "expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	keyCur, certCur := selfSignedCert(t, "current", now.Add(-time.Hour), now.Add(30*24*time.Hour))
	keyNew, certNew := selfSignedCert(t, "next", now.Add(-time.Hour), now.Add(60*24*time.Hour))
	kc := func(c *x509.Certificate) map[string]any {
		return map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(c.Raw)}
	}
	admin.do("PATCH", "/applications/"+appObj, map[string]any{"keyCredentials": []any{kc(certOld), kc(certCur)}}).must(t, 204)
	proof := func(k *rsa.PrivateKey, mod func(map[string]any)) string {
		c := map[string]any{"aud": "00000002-0000-0000-c000-000000000000", "iss": appObj, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return signJWT(t, k, "RS256", nil, c)
	}

	self := appClient(t, s, clientID, secret)
	body := func(p string) map[string]any {
		return map[string]any{"keyCredential": kc(certNew), "passwordCredential": nil, "proof": p}
	}
	bad := []struct{ name, proof string }{
		{"signed by an expired certificate of the app", proof(keyOld, nil)},
		{"not yet valid", proof(keyCur, func(m map[string]any) { m["nbf"], m["exp"] = now.Add(time.Hour).Unix(), now.Add(70*time.Minute).Unix() })},
		{"expired", proof(keyCur, func(m map[string]any) {
			m["nbf"], m["exp"] = now.Add(-time.Hour).Unix(), now.Add(-50*time.Minute).Unix()
		})},
		{"without exp", proof(keyCur, func(m map[string]any) { delete(m, "exp") })},
		{"Microsoft Graph's appId as audience", proof(keyCur, func(m map[string]any) { m["aud"] = "00000003-0000-0000-c000-000000000000" })},
		{"dates as text", proof(keyCur, func(m map[string]any) { m["nbf"] = now.Format(time.RFC3339) })},
		{"not a JWT", "not-a-jwt"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			self.do("POST", "/applications/"+appObj+"/addKey", body(tc.proof)).wantError(t, 401, "Authentication_MissingOrMalformed", "Access Token missing or malformed.")
		})
	}
	self.do("POST", "/applications/"+appObj+"/addKey", map[string]any{"keyCredential": kc(certNew), "passwordCredential": nil}).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	// Another application without permissions may not roll this one's keys.
	otherID, otherSecret := createPrincipal(t, s, "other", nil, nil)
	appClient(t, s, otherID, otherSecret).do("POST", "/applications/"+appObj+"/addKey", body(proof(keyCur, nil))).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	added := self.do("POST", "/applications/"+appObj+"/addKey", body(proof(keyCur, nil))).must(t, 200)
	if added["key"] != nil || added["displayName"] != "CN=next" {
		t.Errorf("addKey answer: %v", added)
	}
	// The new certificate gets a token; the current one still does.
	tokenURL := "https://login.microsoftonline.com/" + s.Tenant().TenantID + "/oauth2/v2.0/token"
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	assert := func(k *rsa.PrivateKey, cert *x509.Certificate) int {
		thumb := sha1.Sum(cert.Raw) //nolint:gosec
		a := signJWT(t, k, "RS256", map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(thumb[:])},
			map[string]any{"aud": tokenURL, "iss": clientID, "sub": clientID, "jti": "j", "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
		status, _ := c.tokenRequest(tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
		return status
	}
	if st := assert(keyNew, certNew); st != 200 {
		t.Errorf("new certificate: token status %d", st)
	}
	if st := assert(keyCur, certCur); st != 200 {
		t.Errorf("current certificate: token status %d", st)
	}
	// Retire the current one with removeKey, proven with the new one.
	sel := admin.do("GET", "/applications/"+appObj+"?$select=keyCredentials", nil).must(t, 200)
	var curID string
	for _, k := range sel["keyCredentials"].([]any) {
		if m := k.(map[string]any); m["displayName"] == "CN=current" {
			curID = m["keyId"].(string)
		}
	}
	self.do("POST", "/applications/"+appObj+"/removeKey", map[string]any{"keyId": curID, "proof": proof(keyOld, nil)}).
		wantError(t, 401, "Authentication_MissingOrMalformed", "Access Token missing or malformed.")
	self.do("POST", "/applications/"+appObj+"/removeKey", map[string]any{"keyId": curID, "proof": proof(keyNew, nil)}).must(t, 204)
	if st := assert(keyCur, certCur); st != 401 {
		t.Errorf("removed certificate: token status %d, want 401", st)
	}
}
