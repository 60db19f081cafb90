package sandbox_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// client talks to one sandbox as one identity.
type client struct {
	t     *testing.T
	s     *sandbox.Server
	hc    *http.Client
	base  string // Graph base, e.g. https://127.0.0.1:PORT/v1.0
	host  string // Host to send (empty: the URL's)
	token string
	// refresh is the refresh token of a user's sign-in (userClient).
	refresh string
}

func newSandbox(t *testing.T, opts ...sandboxtest.Option) *sandbox.Server {
	t.Helper()
	return sandboxtest.New(t, opts...)
}

// adminClient authenticates as the bootstrap admin (client secret) against
// the sandbox's own authority and Graph URL.
func adminClient(t *testing.T, s *sandbox.Server) *client {
	t.Helper()
	info := s.Tenant()
	return appClient(t, s, info.ClientID, info.ClientSecret)
}

func appClient(t *testing.T, s *sandbox.Server, clientID, secret string) *client {
	t.Helper()
	c := &client{t: t, s: s, hc: sandboxtest.Client(s), base: s.URL() + "/v1.0"}
	status, body := c.tokenRequest(s.URL()+"/"+s.Tenant().TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {s.URL() + "/.default"},
	})
	if status != http.StatusOK {
		t.Fatalf("token for %s: %d %v", clientID, status, body)
	}
	c.token = body["access_token"].(string)
	return c
}

// tokenRequest posts a form to a token endpoint and decodes the JSON answer.
func (c *client) tokenRequest(endpoint string, form url.Values) (int, map[string]any) {
	c.t.Helper()
	resp, err := c.hc.PostForm(endpoint, form)
	if err != nil {
		c.t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		c.t.Fatalf("POST %s: status %d, body not JSON: %q", endpoint, resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a Graph request; body may be nil, a map (JSON) or []byte.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if c.host != "" {
		req.Host = c.host
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s %s: invalid JSON %q", method, path, raw)
		}
	}
	autoValidate(c.t, r)
	return r
}

// contextTypes maps the last segment of an @odata.context to the Graph type
// of the entities it describes.
var contextTypes = map[string]string{
	"applications": "application", "servicePrincipals": "servicePrincipal", "appRoleAssignedTo": "appRoleAssignment",
	"appRoleAssignments": "appRoleAssignment", "oauth2PermissionGrants": "oAuth2PermissionGrant", "roleAssignments": "unifiedRoleAssignment",
	"roleDefinitions": "unifiedRoleDefinition", "directoryRoles": "directoryRole", "directoryRoleTemplates": "directoryRoleTemplate",
	"organization": "organization", "users": "user", "microsoft.graph.passwordCredential": "passwordCredential",
	"microsoft.graph.keyCredential": "keyCredential", "groups": "group", "defaultAppManagementPolicy": "tenantAppManagementPolicy",
	"appManagementPolicies": "appManagementPolicy", "roleEligibilityScheduleInstances": "unifiedRoleEligibilityScheduleInstance",
	"Collection": "unifiedRoleEligibilityScheduleInstance", "signIns": "signIn",
}

var keySegment = regexp.MustCompile(`\('[^']*'\)`)

// autoValidate checks every Graph response the tests receive against the
// type its @odata.context names (or Graph's error shape), so that no body
// the sandbox produces goes unvalidated.
func autoValidate(t *testing.T, r response) {
	t.Helper()
	if r.body == nil {
		return
	}
	if _, isErr := r.body["error"]; isErr {
		validateError(t, r)
		return
	}
	if items, isBatch := r.body["responses"].([]any); isBatch {
		for _, it := range items {
			m, _ := it.(map[string]any)
			body, _ := m["body"].(map[string]any)
			hdr := http.Header{}
			for k, v := range m["headers"].(map[string]any) {
				hdr.Set(k, fmt.Sprint(v))
			}
			autoValidate(t, response{status: int(m["status"].(float64)), header: hdr, body: body, raw: []byte(fmt.Sprint(body))})
		}
		return
	}
	ctx, _ := r.body["@odata.context"].(string)
	if strings.Contains(ctx, "/beta/$metadata#") {
		return // beta bodies are checked by validateBetaSignIns
	}
	_, frag, found := strings.Cut(ctx, "#")
	if !found {
		t.Errorf("Graph response without @odata.context: %s", r.raw)
		return
	}
	entity := strings.HasSuffix(frag, "/$entity")
	frag = keySegment.ReplaceAllString(strings.TrimSuffix(frag, "/$entity"), "")
	if i := strings.Index(frag, "("); i >= 0 {
		frag = frag[:i] // $select list
	}
	last := frag[strings.LastIndex(frag, "/")+1:]
	if last == "directoryObjects" && entity {
		validateCheck(t, strings.TrimPrefix(r.body["@odata.type"].(string), "#microsoft.graph."), r.body)
		return
	}
	if last == "directoryObjects" {
		for _, it := range r.body["value"].([]any) {
			m := it.(map[string]any)
			validateCheck(t, strings.TrimPrefix(m["@odata.type"].(string), "#microsoft.graph."), m)
		}
		return
	}
	typ, known := contextTypes[last]
	if !known {
		t.Errorf("no type known for @odata.context %q", ctx)
		return
	}
	switch {
	case entity:
		validateEntity(t, typ, r.body)
	case strings.HasPrefix(last, "microsoft.graph."):
		obj := map[string]any{}
		for k, v := range r.body {
			if k != "@odata.context" {
				obj[k] = v
			}
		}
		validateCheck(t, typ, obj)
	default:
		validateCollection(t, typ, r.body)
	}
}

// must fails the test unless the status is want; it returns the body.
func (r response) must(t *testing.T, want int) map[string]any {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
	return r.body
}

// wantError checks a Graph error response: status, error.code and (when
// msg is not empty) a message containing msg, plus innerError and headers.
func (r response) wantError(t *testing.T, status int, code, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	e, _ := r.body["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %s", r.raw)
	}
	if e["code"] != code {
		t.Errorf("error.code = %v, want %s (message %v)", e["code"], code, e["message"])
	}
	if m, _ := e["message"].(string); m == "" || !strings.Contains(m, msg) {
		t.Errorf("error.message = %q, want it to contain %q", m, msg)
	}
	validateError(t, r)
}

// gz gzips b, as kiota's compression handler does.
func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// selfSignedCert creates an RSA key and a self-signed certificate.
func selfSignedCert(t *testing.T, cn string, notBefore, notAfter time.Time) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// signJWT builds an RS256 (or PS256) JWT by hand, as a client assertion or
// proof would be built.
func signJWT(t *testing.T, key *rsa.PrivateKey, alg string, header, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg, "typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signed))
	var sig []byte
	var err error
	if alg == "PS256" {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strs(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
