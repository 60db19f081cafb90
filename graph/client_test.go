package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	appObjID  = "03ef14b0-ca33-4840-8f4f-d6e91916010e"
	appID     = "631a96bc-a705-4eda-9f99-fdaf9f54f6a2"
	graphSPID = "9028d19c-26a9-4809-8e3f-20ff73e2d75e"
	clientSP  = "33ad69f9-da99-4bed-acd0-3f24235cb296"
	roleID    = "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7"
)

func TestNewValidatesEndpointAndDerivesScope(t *testing.T) {
	cases := []struct {
		endpoint  string
		wantErr   bool
		wantScope string
		wantBase  string
	}{
		{endpoint: "https://graph.microsoft.com", wantScope: "https://graph.microsoft.com/.default", wantBase: "https://graph.microsoft.com/v1.0"},
		{endpoint: "https://dod-graph.microsoft.us/", wantScope: "https://dod-graph.microsoft.us/.default", wantBase: "https://dod-graph.microsoft.us/v1.0"},
		{endpoint: "https://graph.microsoft.us/v1.0", wantScope: "https://graph.microsoft.us/.default", wantBase: "https://graph.microsoft.us/v1.0"},
		{endpoint: "http://127.0.0.1:8080", wantScope: "http://127.0.0.1:8080/.default", wantBase: "http://127.0.0.1:8080/v1.0"},
		{endpoint: "http://graph.microsoft.com", wantErr: true},
		{endpoint: "graph.microsoft.com", wantErr: true},
		{endpoint: "", wantErr: true},
		{endpoint: "https://graph.microsoft.com?x=1", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			c, err := New(&stubCred{token: "t"}, Options{Endpoint: tc.endpoint})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("New(%q) succeeded, want error", tc.endpoint)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tc.endpoint, err)
			}
			if c.Scope() != tc.wantScope || c.baseURL != tc.wantBase {
				t.Errorf("scope %q base %q, want %q %q", c.Scope(), c.baseURL, tc.wantScope, tc.wantBase)
			}
		})
	}
	if _, err := New(nil, Options{Endpoint: "https://graph.microsoft.com"}); err == nil {
		t.Error("New(nil credential) succeeded")
	}
}

func TestUpsertApplicationSendsExactlyWhatWasAsked(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, http.StatusCreated, docCreatedApp)
	})
	c, cred := f.client(t)
	in := Application{
		DisplayName:    "entra-link demo",
		SignInAudience: "AzureADMyOrg",
		Tags:           []string{"entra-link", "entra-link:profile:entitle"},
		RequiredResourceAccess: []RequiredResourceAccess{{
			ResourceAppID:  "00000003-0000-0000-c000-000000000000",
			ResourceAccess: []ResourceAccess{{ID: "df021288-bdef-4463-88db-98f22de89214", Type: "Role"}, {ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Type: "Scope"}},
		}},
	}
	got, created, err := c.UpsertApplication(context.Background(), "entra-link-entitle-demo-0123456789", in)
	if err != nil || !created {
		t.Fatalf("UpsertApplication: %v (created %v)", err, created)
	}
	if got.ID != appObjID || got.AppID != appID || got.PublisherDomain != "contoso.onmicrosoft.com" {
		t.Errorf("parsed app = %+v", got)
	}
	if want := time.Date(2019, 9, 17, 19, 10, 35, 274261800, time.UTC); !got.CreatedDateTime.Equal(want) {
		t.Errorf("createdDateTime = %v, want %v", got.CreatedDateTime, want)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPatch || r.Path != "/v1.0/applications(uniqueName='entra-link-entitle-demo-0123456789')" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if p := r.Header.Get("Prefer"); p != "create-if-missing" {
		t.Errorf("Prefer = %q, want create-if-missing", p)
	}
	if h := r.Header.Get("Authorization"); h != "Bearer "+cred.token {
		t.Errorf("Authorization = %q", h)
	}
	if r.Header.Get("Content-Encoding") != "" {
		t.Errorf("body is %s-encoded; want plain JSON", r.Header.Get("Content-Encoding"))
	}
	if ua := r.Header.Get("User-Agent"); ua != "entra-link" {
		t.Errorf("User-Agent = %q", ua)
	}
	body := jsonBody(t, r.Body)
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"@odata.type", "displayName", "requiredResourceAccess", "signInAudience", "tags"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("body keys = %v, want %v", keys, want)
	}
	wantRRA := `[{"resourceAccess":[{"id":"df021288-bdef-4463-88db-98f22de89214","type":"Role"},{"id":"e1fe6dd8-ba31-4d61-89e7-88639da4683d","type":"Scope"}],"resourceAppId":"00000003-0000-0000-c000-000000000000"}]`
	if g := canon(t, body["requiredResourceAccess"]); g != wantRRA {
		t.Errorf("requiredResourceAccess = %s\nwant %s", g, wantRRA)
	}
	if g := cred.scopes; len(g) == 0 || !reflect.DeepEqual(g[0], []string{f.srv.URL + "/.default"}) {
		t.Errorf("token scopes = %v, want [%s/.default]", g, f.srv.URL)
	}
}

func TestUpsertApplicationRejectsBadInputWithoutCallingGraph(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 201, docCreatedApp) })
	c, _ := f.client(t)
	for _, app := range []Application{
		{},
		{DisplayName: "x", RequiredResourceAccess: []RequiredResourceAccess{{ResourceAppID: "r", ResourceAccess: []ResourceAccess{{ID: "not-a-guid", Type: "Role"}}}}},
		{DisplayName: "x", RequiredResourceAccess: []RequiredResourceAccess{{ResourceAppID: "r", ResourceAccess: []ResourceAccess{{ID: roleID, Type: "Application"}}}}},
	} {
		_, _, err := c.UpsertApplication(context.Background(), "key", app)
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != 0 {
			t.Errorf("UpsertApplication(%+v) = %v, want a *Error without status", app, err)
		}
	}
	if _, _, err := c.UpsertApplication(context.Background(), " ", Application{DisplayName: "x"}); err == nil {
		t.Error("UpsertApplication without a unique name succeeded")
	}
	if n := f.count(); n != 0 {
		t.Errorf("%d requests reached Graph", n)
	}
}

func TestAddPasswordReturnsSecretAndNeverTracesIt(t *testing.T) {
	const sentinel = "SENTINEL~s3cr3t.VALUE_do-not-log"
	resp := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential","customKeyIdentifier":null,"endDateTime":"2027-05-20T10:00:00Z","keyId":"f0b0b335-1d71-4883-8f98-567911bfdca6","startDateTime":"2025-05-20T10:00:00Z","secretText":"` + sentinel + `","hint":"SEN","displayName":"entra-link"}`
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, http.StatusOK, resp) })
	var trace bytes.Buffer
	c, cred := f.client(t, func(o *Options) { o.Trace = &trace })
	end := time.Date(2027, 5, 20, 10, 0, 0, 0, time.UTC)
	pc, err := c.AddPassword(context.Background(), appObjID, "entra-link", end)
	if err != nil {
		t.Fatalf("AddPassword: %v", err)
	}
	if pc.SecretText != sentinel || pc.KeyID != "f0b0b335-1d71-4883-8f98-567911bfdca6" || pc.Hint != "SEN" || !pc.EndDateTime.Equal(end) {
		t.Errorf("credential = %+v", pc)
	}
	r := f.requests()[0]
	if r.Path != "/v1.0/applications/"+appObjID+"/addPassword" {
		t.Errorf("path = %s", r.Path)
	}
	body := jsonBody(t, r.Body)
	pw, _ := body["passwordCredential"].(map[string]any)
	if pw["displayName"] != "entra-link" {
		t.Errorf("passwordCredential = %v", pw)
	}
	if e, _ := pw["endDateTime"].(string); !strings.HasPrefix(e, "2027-05-20T10:00:00") {
		t.Errorf("endDateTime = %v", pw["endDateTime"])
	}
	if _, ok := pw["secretText"]; ok {
		t.Error("request sent a secretText")
	}
	out := trace.String()
	if !strings.Contains(out, "POST "+f.srv.URL+"/v1.0/applications/"+appObjID+"/addPassword -> 200") {
		t.Errorf("trace lacks the addPassword line:\n%s", out)
	}
	for _, leak := range []string{sentinel, cred.token, "Bearer", "secretText"} {
		if strings.Contains(out, leak) {
			t.Errorf("trace contains %q:\n%s", leak, out)
		}
	}
}

func TestAddPasswordWithoutSecretInResponseIsAnError(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, http.StatusOK, `{"keyId":"f0b0b335-1d71-4883-8f98-567911bfdca6"}`)
	})
	c, _ := f.client(t)
	if _, err := c.AddPassword(context.Background(), appObjID, "x", time.Time{}); err == nil {
		t.Fatal("AddPassword succeeded without a secretText in the response")
	}
}

func TestApplicationByIDReadsKeysAndUpdateKeepsThem(t *testing.T) {
	oldDER := []byte("old-cert-DER")
	newDER := []byte("new-cert-DER")
	getBody := `{"id":"` + appObjID + `","appId":"` + appID + `","displayName":"demo","keyCredentials":[{"customKeyIdentifier":"` +
		base64.StdEncoding.EncodeToString([]byte{0xBB, 0x5D}) + `","displayName":"CN=old","endDateTime":"2027-01-01T00:00:00Z","key":"` +
		base64.StdEncoding.EncodeToString(oldDER) + `","keyId":"8b1a2c3d-0000-4000-8000-000000000001","startDateTime":"2026-01-01T00:00:00Z","type":"AsymmetricX509Cert","usage":"Verify"}]}`
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		switch r.Method {
		case http.MethodGet:
			reply(w, http.StatusOK, getBody)
		case http.MethodPatch:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	c, _ := f.client(t)
	app, err := c.ApplicationByID(context.Background(), appObjID)
	if err != nil {
		t.Fatalf("ApplicationByID: %v", err)
	}
	get := f.requests()[0]
	q, _ := url.ParseQuery(get.Query)
	if sel := q.Get("$select"); !strings.Contains(sel, "keyCredentials") || get.Path != "/v1.0/applications/"+appObjID {
		t.Errorf("GET %s ?%s: want $select naming keyCredentials", get.Path, get.Query)
	}
	if len(app.KeyCredentials) != 1 || !bytes.Equal(app.KeyCredentials[0].Key, oldDER) || app.KeyCredentials[0].KeyID != "8b1a2c3d-0000-4000-8000-000000000001" {
		t.Fatalf("keyCredentials = %+v", app.KeyCredentials)
	}

	merged := append(app.KeyCredentials, KeyCredential{
		DisplayName: "CN=new", Type: "AsymmetricX509Cert", Usage: "Verify", Key: newDER,
		StartDateTime: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), EndDateTime: time.Date(2028, 6, 1, 0, 0, 0, 0, time.UTC),
	})
	if err := c.UpdateApplication(context.Background(), appObjID, ApplicationUpdate{KeyCredentials: &merged}); err != nil {
		t.Fatalf("UpdateApplication: %v", err)
	}
	patch := f.requests()[1]
	body := jsonBody(t, patch.Body)
	if len(body) != 2 { // @odata.type + keyCredentials: nothing else is touched
		t.Errorf("PATCH body has keys %v", body)
	}
	kcs, _ := body["keyCredentials"].([]any)
	if len(kcs) != 2 {
		t.Fatalf("PATCH keyCredentials = %v", body["keyCredentials"])
	}
	first, second := kcs[0].(map[string]any), kcs[1].(map[string]any)
	if first["keyId"] != "8b1a2c3d-0000-4000-8000-000000000001" || first["key"] != base64.StdEncoding.EncodeToString(oldDER) {
		t.Errorf("existing certificate not kept as it was: %v", first)
	}
	if second["key"] != base64.StdEncoding.EncodeToString(newDER) || second["type"] != "AsymmetricX509Cert" || second["usage"] != "Verify" {
		t.Errorf("new certificate = %v", second)
	}
	if _, ok := second["keyId"]; ok {
		t.Errorf("new certificate carries a keyId: %v", second)
	}
}

func TestUpdateApplicationSendsEmptyCollectionsAsClears(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { w.WriteHeader(http.StatusNoContent) })
	c, _ := f.client(t)
	var noTags []string // nil, but the pointer says "set it"
	name := "renamed"
	if err := c.UpdateApplication(context.Background(), appObjID, ApplicationUpdate{DisplayName: &name, Tags: &noTags, Web: &Web{RedirectURIs: []string{"https://x.example/cb"}}}); err != nil {
		t.Fatal(err)
	}
	body := jsonBody(t, f.requests()[0].Body)
	if got := canon(t, body["tags"]); got != "[]" {
		t.Errorf("tags = %s, want []", got)
	}
	if body["displayName"] != "renamed" {
		t.Errorf("displayName = %v", body["displayName"])
	}
	want := `{"implicitGrantSettings":{"enableAccessTokenIssuance":false,"enableIdTokenIssuance":false},"redirectUris":["https://x.example/cb"]}`
	if got := canon(t, body["web"]); got != want {
		t.Errorf("web = %s\nwant %s", got, want)
	}
	if _, ok := body["keyCredentials"]; ok {
		t.Error("keyCredentials sent although not asked to change")
	}
}

func TestUpdateApplicationRefusesCertificatesWithoutKeys(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { w.WriteHeader(http.StatusNoContent) })
	c, _ := f.client(t)
	keys := []KeyCredential{{KeyID: "8b1a2c3d-0000-4000-8000-000000000001", Type: "AsymmetricX509Cert", Usage: "Verify"}}
	if err := c.UpdateApplication(context.Background(), appObjID, ApplicationUpdate{KeyCredentials: &keys}); err == nil {
		t.Fatal("a keyCredential without key bytes was PATCHed (it would drop the certificate)")
	}
	if f.count() != 0 {
		t.Error("request reached Graph")
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       string
		headers    []string
		wantCode   string
		wantMsg    string
		wantReqID  string
		notFound   bool
		forbidden  bool
		conflict   bool
		throttled  bool
		wantInText string
	}{
		{name: "404 documented", status: 404, body: docNotFound, wantCode: "Request_ResourceNotFound", wantMsg: "Resource '03ef14b0-ca33-4840-8f4f-d6e91916010e' does not exist or one of its queried reference-property objects are not present.", wantReqID: "93b6f17e-c05d-4f45-ad2a-6665c708d8a0", notFound: true},
		{name: "403 documented", status: 403, body: docForbidden, wantCode: "Authorization_RequestDenied", wantMsg: "Insufficient privileges to complete the operation.", wantReqID: "93b6f17e-c05d-4f45-ad2a-6665c708d8a0", forbidden: true},
		{name: "409 service principal exists", status: 409, body: docSPExists, wantCode: "Request_MultipleObjectsWithSameKeyValue", wantReqID: "20879765-24ec-45ea-b420-e9e35cf61a50", conflict: true},
		{name: "400 app role assignment exists", status: 400, body: docRoleExists, wantCode: "Request_BadRequest", wantMsg: "Permission being assigned already exists on the object", conflict: true},
		{name: "409 grant exists", status: 409, body: docGrantExists, conflict: true, wantCode: "Request_MultipleObjectsWithSameKeyValue"},
		{name: "400 role assignment conflict", status: 400, body: `{"error":{"code":"Request_BadRequest","message":"A conflicting object with one or more of the specified property values is present in the directory."}}`, conflict: true, wantCode: "Request_BadRequest"},
		{name: "400 other", status: 400, body: docBadRequest, wantCode: "Request_BadRequest", wantReqID: "r-4"},
		{name: "empty body", status: 400, body: "", wantInText: "400 Bad Request"},
		{name: "empty object", status: 403, body: "{}", forbidden: true, wantInText: "403 Forbidden"},
		{name: "code without message", status: 404, body: `{"error":{"code":"Request_ResourceNotFound"}}`, wantCode: "Request_ResourceNotFound", notFound: true},
		{name: "html from a gateway", status: 502, body: "<html><body>Bad Gateway</body></html>", wantInText: "502 Bad Gateway"},
		{name: "legacy odata.error", status: 400, body: `{"odata.error":{"code":"Request_BadRequest","message":{"lang":"en","value":"The appId of the service principal does not reference a valid application object."}}}`, wantCode: "Request_BadRequest", wantMsg: "The appId of the service principal does not reference a valid application object."},
		{name: "request-id header fallback", status: 404, body: `{"error":{"code":"Request_ResourceNotFound","message":"gone"}}`, headers: []string{"request-id: hdr-123"}, wantReqID: "hdr-123", notFound: true, wantCode: "Request_ResourceNotFound"},
		{name: "throttled past the deadline", status: 429, body: docThrottled, headers: []string{"Retry-After: 3600"}, throttled: true, wantCode: "TooManyRequests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if tc.body != "" && !strings.HasPrefix(tc.body, "{") {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
					return
				}
				reply(w, tc.status, tc.body, tc.headers...)
			})
			c, _ := f.client(t)
			_, err := c.ApplicationByID(context.Background(), appObjID)
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T %v is not *graph.Error", err, err)
			}
			if ge.Status != tc.status || ge.Code != tc.wantCode || (tc.wantMsg != "" && ge.Message != tc.wantMsg) || (tc.wantReqID != "" && ge.RequestID != tc.wantReqID) {
				t.Errorf("got status=%d code=%q msg=%q reqid=%q", ge.Status, ge.Code, ge.Message, ge.RequestID)
			}
			if IsNotFound(err) != tc.notFound || IsForbidden(err) != tc.forbidden || IsConflict(err) != tc.conflict || IsThrottled(err) != tc.throttled {
				t.Errorf("classification notFound=%v forbidden=%v conflict=%v throttled=%v", IsNotFound(err), IsForbidden(err), IsConflict(err), IsThrottled(err))
			}
			text := err.Error()
			if !strings.HasPrefix(text, "Microsoft Graph ") || !strings.Contains(text, " get application: ") || !strings.Contains(text, tc.wantInText) {
				t.Errorf("Error() = %q", text)
			}
			if ge.Method != http.MethodGet || !strings.Contains(ge.URL, "/v1.0/applications/"+appObjID) {
				t.Errorf("method/url = %s %s", ge.Method, ge.URL)
			}
			if f.count() != 1 {
				t.Errorf("%d attempts, want 1 (none of these is retried for a GET)", f.count())
			}
		})
	}
}

func TestErrorHelpersOnForeignErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("x"), context.Canceled} {
		if IsNotFound(err) || IsConflict(err) || IsForbidden(err) || IsThrottled(err) || StatusOf(err) != 0 {
			t.Errorf("helpers misclassify %v", err)
		}
	}
	wrapped := errors.Join(errors.New("setup"), &Error{Status: 404})
	if !IsNotFound(wrapped) {
		t.Error("IsNotFound does not see through wrapping")
	}
}

func TestSignInFailureIsAnErrorAndNotRetried(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 200, docCreatedApp) })
	c, cred := f.client(t)
	cred.err = errors.New("AADSTS7000215: Invalid client secret provided")
	_, err := c.ApplicationByID(context.Background(), appObjID)
	var ge *Error
	if !errors.As(err, &ge) || !errors.Is(err, cred.err) || !strings.Contains(err.Error(), "sign-in failed") {
		t.Fatalf("err = %v", err)
	}
	if f.count() != 0 || len(cred.scopes) != 1 {
		t.Errorf("requests=%d token attempts=%d, want 0 and 1", f.count(), len(cred.scopes))
	}
}

func TestConcurrentCallsAreSafe(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 200, docCreatedApp) })
	var trace bytes.Buffer
	c, _ := f.client(t, func(o *Options) { o.Trace = &syncWriter{w: &trace} })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.ApplicationByID(context.Background(), appObjID); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	lines := strings.Split(strings.TrimSpace(trace.String()), "\n")
	if len(lines) != 16 {
		t.Fatalf("%d trace lines, want 16", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "graph: GET ") || !strings.HasSuffix(l, ", attempt 1)") {
			t.Errorf("garbled trace line %q", l)
		}
	}
}

// syncWriter lets a test read a buffer the tracer writes to; the tracer
// serialises its own writes.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
