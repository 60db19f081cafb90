package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// fakeSTS is an Entra token endpoint behind an http.RoundTripper: no
// sockets, and any request it does not expect fails the test's sign-in
// (so nothing can reach the real login.microsoftonline.com).
type fakeSTS struct {
	t *testing.T
	// hosts the fake answers for; anything else is an error.
	hosts map[string]bool

	mu   sync.Mutex
	reqs []stsRequest
	// tokenStatus/tokenBody override the token endpoint's answer.
	tokenStatus int
	tokenBody   string
	// allowDiscovery answers MSAL's instance discovery (as Entra does for
	// its own clouds); otherwise discovery fails like an unknown host.
	allowDiscovery bool
}

type stsRequest struct {
	Method, Host, Path string
	Form               map[string][]string
}

func newFakeSTS(t *testing.T, hosts ...string) *fakeSTS {
	s := &fakeSTS{t: t, hosts: map[string]bool{}, allowDiscovery: true}
	for _, h := range hosts {
		s.hosts[h] = true
	}
	return s
}

func (s *fakeSTS) requests() []stsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stsRequest(nil), s.reqs...)
}

func (s *fakeSTS) RoundTrip(req *http.Request) (*http.Response, error) {
	form := map[string][]string{}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if vals, err := parseForm(b); err == nil {
			form = vals
		}
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, stsRequest{Method: req.Method, Host: req.URL.Host, Path: req.URL.Path, Form: form})
	s.mu.Unlock()

	if strings.HasSuffix(req.URL.Path, "/discovery/instance") {
		if !s.allowDiscovery || !s.hosts[req.URL.Host] {
			return nil, fmt.Errorf("fake STS: instance discovery request %s", req.URL)
		}
		h := req.URL.Host
		return jsonResponse(200, fmt.Sprintf(`{"tenant_discovery_endpoint":"https://%[1]s/common/v2.0/.well-known/openid-configuration","api-version":"1.1","metadata":[{"preferred_network":"%[1]s","preferred_cache":"%[1]s","aliases":["%[1]s"]}]}`, h)), nil
	}
	if !s.hosts[req.URL.Host] {
		return nil, fmt.Errorf("fake STS: unexpected host in %s", req.URL)
	}
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	tenant := parts[0]
	base := "https://" + req.URL.Host + "/" + tenant
	switch {
	case strings.HasSuffix(req.URL.Path, "/.well-known/openid-configuration"):
		return jsonResponse(200, fmt.Sprintf(`{"token_endpoint":"%[1]s/oauth2/v2.0/token","issuer":"%[1]s/v2.0","authorization_endpoint":"%[1]s/oauth2/v2.0/authorize","device_authorization_endpoint":"%[1]s/oauth2/v2.0/devicecode"}`, base)), nil
	case strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/devicecode"):
		return jsonResponse(200, `{"device_code":"dc-123","user_code":"ABCD-EFGH","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":1,"message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."}`), nil
	case strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token"):
		if s.tokenStatus != 0 {
			return jsonResponse(s.tokenStatus, s.tokenBody), nil
		}
		if first(form["grant_type"]) == "device_code" {
			idt := unsignedJWT(map[string]any{
				"aud": "14d82eec-204b-4c2f-b7e8-296a70dab67e", "iss": "https://" + req.URL.Host + "/84841066-274d-4ec0-a5c1-276be684bdd3/v2.0",
				"tid": "84841066-274d-4ec0-a5c1-276be684bdd3", "oid": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
				"preferred_username": "admin@contoso.onmicrosoft.com", "ver": "2.0", "sub": "s",
			})
			ci := base64.RawURLEncoding.EncodeToString([]byte(`{"uid":"87d349ed-44d7-43e1-9a83-5f2406dee5bd","utid":"84841066-274d-4ec0-a5c1-276be684bdd3"}`))
			return jsonResponse(200, fmt.Sprintf(`{"access_token":"user-token","expires_in":3600,"refresh_token":"rt","client_info":%q,"id_token":%q,"token_type":"Bearer","scope":%q}`, ci, idt, first(form["scope"]))), nil
		}
		return jsonResponse(200, `{"access_token":"app-token","expires_in":3600,"token_type":"Bearer"}`), nil
	}
	return nil, fmt.Errorf("fake STS: unexpected request %s %s", req.Method, req.URL)
}

func jsonResponse(status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(bytes.NewReader([]byte(body))),
	}
}

func parseForm(b []byte) (map[string][]string, error) {
	req, err := http.NewRequest(http.MethodPost, "https://x/", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := req.ParseForm(); err != nil {
		return nil, err
	}
	return req.PostForm, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func unsignedJWT(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(b) + ".sig"
}
