package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// stubCred hands out a fixed token and records the scopes it was asked for.
type stubCred struct {
	mu     sync.Mutex
	token  string
	scopes [][]string
	err    error
}

func (s *stubCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = append(s.scopes, append([]string(nil), o.Scopes...))
	if s.err != nil {
		return azcore.AccessToken{}, s.err
	}
	return azcore.AccessToken{Token: s.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// testJWT builds an unsigned JWT carrying claims (WhoAmI does not verify).
func testJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(b) + ".c2ln"
}

// recorded is one request the fake saw.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// fakeGraph is a TLS Graph stand-in: tests register a handler and inspect
// what arrived.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []recorded
	handler func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newFakeGraph(t *testing.T, h func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, handler: h}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		f.handler(w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeGraph) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// client builds a Client against the fake with fast retries.
func (f *fakeGraph) client(t *testing.T, mutate ...func(*Options)) (*Client, *stubCred) {
	t.Helper()
	cred := &stubCred{token: testJWT(t, map[string]any{"oid": "11111111-1111-1111-1111-111111111111", "scp": "Application.ReadWrite.All"})}
	o := Options{
		Endpoint:       f.srv.URL,
		HTTPClient:     f.srv.Client(),
		RetryBaseDelay: 5 * time.Millisecond,
		RetryMaxDelay:  20 * time.Millisecond,
		RetryDeadline:  5 * time.Second,
	}
	for _, m := range mutate {
		m(&o)
	}
	c, err := New(cred, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, cred
}

// reply writes a JSON response with optional headers ("Name: value").
func reply(w http.ResponseWriter, status int, body string, headers ...string) {
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		w.Header().Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// jsonBody decodes a recorded body into a generic map.
func jsonBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, b)
	}
	return m
}

// canon re-marshals JSON so comparisons ignore formatting and key order.
func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(x)
	return string(bytes.TrimSpace(out))
}

// Documented Graph bodies (reference/graph/endpoints.md).
const (
	docNotFound      = `{"error":{"code":"Request_ResourceNotFound","message":"Resource '03ef14b0-ca33-4840-8f4f-d6e91916010e' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0","client-request-id":"e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}}}`
	docForbidden     = `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0","client-request-id":"e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}}}`
	docThrottled     = `{"error":{"code":"TooManyRequests","innerError":{"code":"429","date":"2020-08-18T12:51:51","message":"Please retry after","request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","status":"429"},"message":"Please retry again later."}}`
	docSPExists      = `{"error":{"code":"Request_MultipleObjectsWithSameKeyValue","message":"The service principal cannot be created, updated, or restored because the service principal name c642e789-57df-465d-8407-aea848cc4057 is already in use.","details":[{"code":"ObjectConflict","message":"The service principal cannot be created, updated, or restored because the service principal name c642e789-57df-465d-8407-aea848cc4057 is already in use.","target":"None"}],"innerError":{"date":"2026-03-12T23:50:07","request-id":"20879765-24ec-45ea-b420-e9e35cf61a50","client-request-id":"x"}}}`
	docRoleExists    = `{"error":{"code":"Request_BadRequest","message":"Permission being assigned already exists on the object","innerError":{"date":"2025-02-13T10:17:06","request-id":"r-1","client-request-id":"c-1"}}}`
	docGrantExists   = `{"error":{"code":"Request_MultipleObjectsWithSameKeyValue","message":"Permission entry already exists.","innerError":{"date":"2025-02-13T10:17:06","request-id":"r-2","client-request-id":"c-2"}}}`
	docNoBackingApp  = `{"error":{"code":"Request_BadRequest","message":"The appId '631a96bc-a705-4eda-9f99-fdaf9f54f6a2' of the service principal does not reference a valid application object.","details":[{"code":"NoBackingApplicationObject","message":"The appId '631a96bc-a705-4eda-9f99-fdaf9f54f6a2' of the service principal does not reference a valid application object.","target":"appId"}],"innerError":{"date":"2026-05-06T10:00:00","request-id":"r-3","client-request-id":"c-3"}}}`
	docNotValidRef   = `{"error":{"code":"Request_BadRequest","message":"Not a valid reference update.","innerError":{"date":"2022-09-11T22:17:16","request-id":"61fadb2a-478b-4483-8f23-d17e13732104","client-request-id":"61fadb2a-478b-4483-8f23-d17e13732104"}}}`
	docBadRequest    = `{"error":{"code":"Request_BadRequest","message":"Invalid value specified for property 'type' of resource 'PermissionScope'.","innerError":{"request-id":"r-4"}}}`
	docUnavailable   = `{"error":{"code":"serviceNotAvailable","message":"Service unavailable, please retry.","innerError":{"request-id":"r-5"}}}`
	docKeyTaken      = `{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property uniqueName already exists.","innerError":{"request-id":"4f1c6f54-4bbf-4d4b-9d54-6f7c1b2b4c11"}}}`
	docCreatedApp    = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#applications/$entity","id":"03ef14b0-ca33-4840-8f4f-d6e91916010e","deletedDateTime":null,"appId":"631a96bc-a705-4eda-9f99-fdaf9f54f6a2","identifierUris":[],"createdDateTime":"2019-09-17T19:10:35.2742618Z","displayName":"entra-link demo","publisherDomain":"contoso.onmicrosoft.com","signInAudience":"AzureADMyOrg","tags":["entra-link","entra-link:profile:entitle"],"keyCredentials":[],"passwordCredentials":[],"requiredResourceAccess":[{"resourceAppId":"00000003-0000-0000-c000-000000000000","resourceAccess":[{"id":"df021288-bdef-4463-88db-98f22de89214","type":"Role"}]}],"web":{"redirectUris":[],"homePageUrl":null,"logoutUrl":null,"implicitGrantSettings":{"enableIdTokenIssuance":false,"enableAccessTokenIssuance":false}}}`
	docCreatedSP     = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity","id":"59e617e5-e447-4adc-8b88-00af644d7c92","accountEnabled":true,"appDisplayName":"My App","appId":"631a96bc-a705-4eda-9f99-fdaf9f54f6a2","displayName":"entra-link demo","servicePrincipalNames":["631a96bc-a705-4eda-9f99-fdaf9f54f6a2"],"tags":["entra-link"],"appRoles":[],"keyCredentials":[],"oauth2PermissionScopes":[],"passwordCredentials":[]}`
	docCreatedAssign = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('9028d19c-26a9-4809-8e3f-20ff73e2d75e')/appRoleAssignedTo/$entity","id":"-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc","deletedDateTime":null,"appRoleId":"ef7437e6-4f94-4a0a-a110-a439eb2aa8f7","createdDateTime":"2021-02-15T16:14:59.8643039Z","principalDisplayName":"entra-link demo","principalId":"33ad69f9-da99-4bed-acd0-3f24235cb296","principalType":"ServicePrincipal","resourceDisplayName":"Microsoft Graph","resourceId":"9028d19c-26a9-4809-8e3f-20ff73e2d75e"}`
)
