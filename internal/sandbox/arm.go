package sandbox

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Azure Resource Manager, as far as signing in needs it (endpoints.md §14):
// `az login` gets a token for https://management.core.windows.net/ and
// lists GET /subscriptions (and, interactively, GET /tenants) on the
// cloud's management host. The sandbox tenant has no subscriptions.
//
// ARM shares its paths with nothing else the sandbox serves only by luck
// ("/tenants" could be a login tenant segment), so requests are routed to
// it by Host: the management hosts of first-party.json.
//
// Wording: the codes InvalidAuthenticationTokenAudience (401) and
// MissingApiVersionParameter (400) are the reference's (§14, [observed]);
// their messages, and every other ARM message here, are [observed] in
// public captures of ARM responses, not in the reference.

// armHostCloud maps a management host to its cloud name ("" if host is
// not an Azure Resource Manager host).
func armHostCloud(host string) string {
	h := strings.ToLower(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	if r := fixtureResource(armAppID); r != nil {
		for _, c := range fixtureCloudOrder {
			if r.ARMHostByCloud[c] == h {
				return c
			}
		}
	}
	return ""
}

// armHosts lists the management hosts (for the certificate and Transport).
func armHosts() []string {
	seen := map[string]bool{}
	var out []string
	if r := fixtureResource(armAppID); r != nil {
		for _, h := range r.ARMHostByCloud {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	sort.Strings(out)
	return out
}

// armAudiences are the audiences ARM in cloudName accepts: the Service
// Management API's identifiers there, with and without the trailing slash.
func armAudiences(cloudName string) []string {
	var out []string
	if r := fixtureResource(armAppID); r != nil {
		for _, id := range r.identifiers(cloudName) {
			out = append(out, strings.TrimSuffix(id, "/")+"/", strings.TrimSuffix(id, "/"))
		}
	}
	return out
}

type armError struct {
	status        int
	code, message string
}

func armErr(status int, code, format string, a ...any) *armError {
	return &armError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

// apiVersionRE is the form ARM api-versions take (2022-12-01, 2021-04-01-preview).
var apiVersionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$`)

// serveARM answers a request to a management host.
func (s *Server) serveARM(w http.ResponseWriter, r *http.Request, cloudName string) {
	reqID := newGUID()
	corr := r.Header.Get("x-ms-correlation-request-id")
	if corr == "" {
		corr = reqID
	}
	w.Header().Set("x-ms-request-id", reqID)
	w.Header().Set("x-ms-correlation-request-id", corr)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	body, e := s.armRoute(r, cloudName)
	if e != nil {
		if e.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="`+e.message+`"`)
		}
		w.WriteHeader(e.status)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": e.code, "message": e.message}})
		_, _ = w.Write(b)
		return
	}
	b, _ := json.Marshal(body)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) armRoute(r *http.Request, cloudName string) (map[string]any, *armError) {
	if e := s.armAuthenticate(r, cloudName); e != nil {
		return nil, e
	}
	apiVersion := r.URL.Query().Get("api-version")
	if apiVersion == "" {
		return nil, armErr(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
	}
	if !apiVersionRE.MatchString(apiVersion) {
		return nil, armErr(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '2022-12-01,2022-09-01,2022-01-01,2021-01-01,2020-01-01,2019-11-01,2019-06-01,2018-06-01,2016-06-01'.", apiVersion)
	}
	segs := splitPath(r.URL.Path)
	get := r.Method == http.MethodGet
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case get && len(segs) == 1 && strings.EqualFold(segs[0], "subscriptions"):
		// The sandbox tenant has no Azure subscription: az accepts the empty
		// list with --allow-no-subscriptions and records a tenant-level account.
		return map[string]any{"value": []any{}, "count": map[string]any{"type": "Total", "value": 0}}, nil
	case get && len(segs) == 2 && strings.EqualFold(segs[0], "subscriptions"):
		return nil, armErr(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", segs[1])
	case get && len(segs) == 1 && strings.EqualFold(segs[0], "tenants"):
		t := s.t
		return map[string]any{"value": []any{map[string]any{
			"id":             "/tenants/" + t.TenantID,
			"tenantId":       t.TenantID,
			"countryCode":    "US",
			"displayName":    t.DisplayName,
			"domains":        anyList(t.verifiedDomains()),
			"tenantCategory": "Home",
			"defaultDomain":  t.InitialDomain,
			"tenantType":     "AAD",
		}}}, nil
	}
	// Not an error ARM would give: the sandbox serves only what sign-in needs.
	return nil, armErr(http.StatusNotFound, "NotFound", "The entra-link sandbox serves only GET /subscriptions and GET /tenants of Azure Resource Manager, not %s %s.", r.Method, r.URL.Path)
}

// armAuthenticate validates the bearer token as ARM does: signed by the
// tenant, in its lifetime, and for one of the audiences ARM accepts.
func (s *Server) armAuthenticate(r *http.Request, cloudName string) *armError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return armErr(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
	}
	scheme, raw, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return armErr(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.")
	}
	tok, err := parseJWT(strings.TrimSpace(raw))
	if err != nil || tok.alg() != "RS256" || tok.verify(&s.signing.key.PublicKey) != nil {
		return armErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
	}
	now := time.Now()
	if exp, ok := tok.num("exp"); !ok || now.After(time.Unix(exp, 0).Add(clockSkew)) {
		return armErr(http.StatusUnauthorized, "ExpiredAuthenticationToken", "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			time.Unix(exp, 0).UTC().Format("1/2/2006 3:04:05 PM"), now.UTC().Format("1/2/2006 3:04:05 PM"))
	}
	s.mu.Lock()
	tenantID := s.t.TenantID
	s.mu.Unlock()
	if !strings.EqualFold(tok.str("tid"), tenantID) {
		return armErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
	}
	allowed := armAudiences(cloudName)
	aud := tok.str("aud")
	for _, a := range allowed {
		if aud == a {
			return nil
		}
	}
	return armErr(http.StatusUnauthorized, "InvalidAuthenticationTokenAudience",
		"The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences '%s'.",
		aud, strings.Join(allowed, "','"))
}
