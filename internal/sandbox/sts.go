package sandbox

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/cloud"
)

// Token lifetimes.
const (
	accessTokenLifetime = 3599 * time.Second
	deviceCodeLifetime  = 15 * time.Minute
	refreshLifetime     = 24 * time.Hour
)

// oidcScopes are requested alongside resource scopes; they select what the
// response carries (id_token, refresh_token, client_info) rather than being
// permissions of a resource.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "offline_access": true, "email": true}

type deviceCode struct {
	clientID string
	scopes   []string
	rawScope string // as requested, OIDC scopes included
	created  time.Time
	polls    int
}

// loginReq is one request to a login (authority) endpoint.
type loginReq struct {
	s       *Server
	r       *http.Request
	host    string
	cloud   string // cloud of the authority host; "" for the sandbox's own address
	segs    []string
	tenant  string // first path segment as sent
	corrID  string
	traceID string
	// clientAuthenticated: the client proved itself (secret or assertion)
	// or is a public client by its redirect URI, so a user token may be
	// issued to an app that is not a fallback public client.
	clientAuthenticated bool
}

// authorityCloud maps a login host to its cloud ("" for the sandbox).
func authorityCloud(host string) string {
	h := strings.ToLower(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	switch h {
	case "login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net":
		return cloud.Global.Name
	case "login.microsoftonline.us", "login.usgovcloudapi.net":
		return cloud.USGov.Name
	case "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return cloud.China.Name
	}
	return ""
}

// serveLogin answers a request to an authority endpoint.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	lr := &loginReq{s: s, r: r, host: strings.TrimSuffix(r.Host, ":443"), segs: splitPath(r.URL.Path), traceID: newGUID()}
	lr.cloud = authorityCloud(lr.host)
	lr.corrID = r.Header.Get("client-request-id")
	if lr.corrID == "" {
		lr.corrID = newGUID()
	}
	if len(lr.segs) > 0 {
		lr.tenant = lr.segs[0]
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			lr.writeError(w, serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."))
			return
		}
	}
	s.mu.Lock()
	if rule := s.takeRule(r.Method, r.URL.Path, r.PostForm.Get("client_id")); rule != nil {
		s.mu.Unlock()
		info.fault = "inject"
		lr.writeRule(w, rule)
		return
	}
	leave := s.enter(s.tenantNamed(lr.tenant))
	if lr.isAuthorize() {
		p := lr.authorize()
		leave()
		s.mu.Unlock()
		p.write(w)
		return
	}
	body, status, e := lr.dispatch()
	leave()
	s.mu.Unlock()
	if e != nil {
		info.fault = e.Fault
		lr.writeError(w, e)
		return
	}
	if body == nil {
		http.NotFound(w, r)
		return
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("x-ms-request-id", lr.traceID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// dispatch routes by path. Callers hold s.mu. A nil body means 404.
func (lr *loginReq) dispatch() (map[string]any, int, *stsError) {
	segs := lr.segs
	low := make([]string, len(segs))
	for i, x := range segs {
		low[i] = strings.ToLower(x)
	}
	is := func(parts ...string) bool {
		if len(low) != len(parts)+1 {
			return false
		}
		for i, p := range parts {
			if low[i+1] != p {
				return false
			}
		}
		return true
	}
	get, post := lr.r.Method == http.MethodGet, lr.r.Method == http.MethodPost
	switch {
	case len(low) == 0:
		return nil, 0, nil
	case get && is("discovery", "instance"):
		return lr.instanceDiscovery()
	case get && is("v2.0", ".well-known", "openid-configuration"):
		return lr.openIDConfiguration(true)
	case get && is(".well-known", "openid-configuration"):
		return lr.openIDConfiguration(false)
	case get && (is("discovery", "v2.0", "keys") || is("discovery", "keys")):
		return lr.jwks()
	case post && is("oauth2", "v2.0", "token"):
		return lr.token(true)
	case post && is("oauth2", "token"):
		return lr.token(false)
	case post && (is("oauth2", "v2.0", "devicecode") || is("oauth2", "devicecode")):
		return lr.deviceCodeStart(low[2] == "v2.0")
	}
	return nil, 0, nil
}

// tenantKind classifies the tenant path segment.
func (lr *loginReq) tenantKind() (string, *stsError) {
	t := lr.s.t
	switch strings.ToLower(lr.tenant) {
	case "common", "organizations":
		return "multi", nil
	}
	if t.matchesTenant(lr.tenant) {
		return "tenant", nil
	}
	if isGUID(lr.tenant) || strings.Contains(lr.tenant, ".") {
		return "", serr(http.StatusBadRequest, "invalid_tenant", 90002,
			"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", lr.tenant)
	}
	return "", serr(http.StatusBadRequest, "invalid_tenant", 900023,
		"Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", lr.tenant)
}

// base is the authority base URL for a tenant path segment.
func (lr *loginReq) base(tenantSeg string) string { return "https://" + lr.host + "/" + tenantSeg }

func (lr *loginReq) instanceDiscovery() (map[string]any, int, *stsError) {
	ae := lr.r.URL.Query().Get("authorization_endpoint")
	host := lr.host
	tenantSeg := "common"
	if ae != "" {
		u, err := url.Parse(ae)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, 0, serr(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance.")
		}
		host = strings.TrimSuffix(u.Host, ":443")
		if p := splitPath(u.Path); len(p) > 0 {
			tenantSeg = p[0]
		}
	}
	if authorityCloud(host) == "" && !lr.s.isOwnHost(host) {
		return nil, 0, serr(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance.")
	}
	metadata := []any{
		map[string]any{"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net", "aliases": []any{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}},
		map[string]any{"preferred_network": "login.partner.microsoftonline.cn", "preferred_cache": "login.partner.microsoftonline.cn", "aliases": []any{"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}},
		map[string]any{"preferred_network": "login.microsoftonline.us", "preferred_cache": "login.microsoftonline.us", "aliases": []any{"login.microsoftonline.us", "login.usgovcloudapi.net"}},
	}
	if lr.s.isOwnHost(host) {
		metadata = append(metadata, map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": []any{host}})
	}
	return map[string]any{
		"tenant_discovery_endpoint": "https://" + host + "/" + tenantSeg + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  metadata,
	}, http.StatusOK, nil
}

// isOwnHost reports whether host (host[:port]) is the sandbox's own address.
func (s *Server) isOwnHost(host string) bool {
	h, p := splitHTTPSHost(host)
	_, port, _ := net.SplitHostPort(s.addr)
	return p == port && isLoopbackName(h)
}

func (lr *loginReq) openIDConfiguration(v2 bool) (map[string]any, int, *stsError) {
	kind, e := lr.tenantKind()
	if e != nil {
		return nil, 0, e
	}
	seg, issuerTenant := lr.s.t.TenantID, lr.s.t.TenantID
	if kind == "multi" {
		seg, issuerTenant = strings.ToLower(lr.tenant), "{tenantid}"
	}
	base := lr.base(seg)
	graphHost := "graph.microsoft.com"
	cloudInstance := "microsoftonline.com"
	switch lr.cloud {
	case cloud.USGov.Name:
		graphHost, cloudInstance = "graph.microsoft.us", "microsoftonline.us"
	case cloud.China.Name:
		graphHost, cloudInstance = "microsoftgraph.chinacloudapi.cn", "partner.microsoftonline.cn"
	case "":
		graphHost, cloudInstance = lr.host, lr.host
	}
	doc := map[string]any{
		"token_endpoint_auth_methods_supported": []any{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []any{"query", "fragment", "form_post"},
		"subject_types_supported":               []any{"pairwise"},
		"id_token_signing_alg_values_supported": []any{"RS256"},
		"response_types_supported":              []any{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []any{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      []any{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   cloudInstance,
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          graphHost,
		"rbac_url":                              "https://pas.windows.net",
		"kerberos_endpoint":                     base + "/kerberos",
	}
	if v2 {
		doc["token_endpoint"] = base + "/oauth2/v2.0/token"
		doc["jwks_uri"] = base + "/discovery/v2.0/keys"
		doc["issuer"] = "https://" + lr.host + "/" + issuerTenant + "/v2.0"
		doc["authorization_endpoint"] = base + "/oauth2/v2.0/authorize"
		doc["device_authorization_endpoint"] = base + "/oauth2/v2.0/devicecode"
		doc["end_session_endpoint"] = base + "/oauth2/v2.0/logout"
		doc["userinfo_endpoint"] = "https://" + graphHost + "/oidc/userinfo"
	} else {
		doc["token_endpoint"] = base + "/oauth2/token"
		doc["jwks_uri"] = "https://" + lr.host + "/common/discovery/keys"
		doc["issuer"] = issuerFor(lr.cloud, lr.host, issuerTenant)
		doc["authorization_endpoint"] = base + "/oauth2/authorize"
		doc["device_authorization_endpoint"] = base + "/oauth2/devicecode"
		doc["end_session_endpoint"] = base + "/oauth2/logout"
		doc["userinfo_endpoint"] = base + "/openid/userinfo"
	}
	return doc, http.StatusOK, nil
}

func (lr *loginReq) jwks() (map[string]any, int, *stsError) {
	if !strings.EqualFold(lr.tenant, "common") {
		if _, e := lr.tenantKind(); e != nil {
			return nil, 0, e
		}
	}
	return map[string]any{"keys": []any{lr.s.signingJWK(lr.host)}}, http.StatusOK, nil
}

func (s *Server) signingJWK(host string) map[string]any {
	pub := &s.signing.key.PublicKey
	sha1Sum, _ := certThumbprints(s.signing.cert.Raw)
	kid := base64.RawURLEncoding.EncodeToString(sha1Sum)
	return map[string]any{
		"kty":    "RSA",
		"use":    "sig",
		"kid":    kid,
		"x5t":    kid,
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c":    []any{base64.StdEncoding.EncodeToString(s.signing.cert.Raw)},
		"issuer": "https://" + host + "/" + s.t.TenantID + "/v2.0",
	}
}

// token is POST /{tenant}/oauth2[/v2.0]/token.
func (lr *loginReq) token(v2 bool) (map[string]any, int, *stsError) {
	form := lr.r.PostForm
	kind, e := lr.tenantKind()
	if e != nil {
		return nil, 0, e
	}
	if e := checkClaimsRequest(form.Get("claims")); e != nil {
		return nil, 0, e
	}
	grant := form.Get("grant_type")
	switch grant {
	case "client_credentials":
		if kind == "multi" {
			return nil, 0, serr(http.StatusBadRequest, "invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
		}
		return lr.clientCredentials(v2)
	case "device_code", "urn:ietf:params:oauth:grant-type:device_code":
		return lr.deviceCodeToken(v2)
	case "refresh_token":
		return lr.refreshToken(v2)
	case "authorization_code":
		return lr.authCodeToken(v2)
	case "":
		return nil, 0, serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	}
	return nil, 0, serr(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
}

// checkClaimsRequest checks a token request's claims parameter (OpenID
// Connect Core §5.5, which Entra takes for claims challenges such as
// MSAL's {"access_token":{"nbf":{"essential":true,"value":"…"}}}): a JSON
// object of objects, each naming claims with their requests. Entra refuses
// anything else with AADSTS50117. Every token it issues is new and carries
// what the directory holds now (wids included), which is all a challenge
// for a token issued after a time asks of it.
func checkClaimsRequest(raw string) *stsError {
	if raw == "" {
		return nil
	}
	bad := serr(http.StatusBadRequest, "invalid_request", 50117, "Failed to deserialize policy specified in the request's claims parameter.")
	var req map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &req); err != nil || req == nil {
		return bad
	}
	for _, claims := range req {
		for _, c := range claims {
			if string(c) == "null" {
				continue // a claim requested by name alone
			}
			var spec struct {
				Essential *bool           `json:"essential"`
				Value     json.RawMessage `json:"value"`
				Values    []any           `json:"values"`
			}
			if json.Unmarshal(c, &spec) != nil {
				return bad
			}
		}
	}
	return nil
}

// clientApp resolves client_id to the tenant's application, honouring the
// replication delay (a just-created app is not known to the token service).
func (lr *loginReq) clientApp() (*application, *stsError) {
	clientID := lr.r.PostForm.Get("client_id")
	if clientID == "" {
		return nil, serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	app := lr.s.t.appByAppID(clientID)
	if app == nil {
		app = lr.s.multiTenantApp(clientID)
	}
	if app == nil || !lr.s.replicated(app.Created) {
		e := lr.appNotFound(clientID)
		if app != nil {
			e.Fault = "replication"
		}
		return nil, e
	}
	return app, nil
}

func (lr *loginReq) appNotFound(clientID string) *stsError {
	return serr(http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
		clientID, lr.s.t.DisplayName)
}

// requestedScopes returns the resource scopes (OIDC scopes removed) of a
// v2 request, or the v1 resource as "<resource>/.default".
func (lr *loginReq) requestedScopes(v2 bool) ([]string, *stsError) {
	form := lr.r.PostForm
	if !v2 {
		res := form.Get("resource")
		if res == "" {
			return nil, serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'.")
		}
		return []string{strings.TrimSuffix(res, "/") + "/.default"}, nil
	}
	var out []string
	for _, sc := range strings.Fields(form.Get("scope")) {
		if !oidcScopes[strings.ToLower(sc)] {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, serr(http.StatusBadRequest, "invalid_request", 90014, "The required field 'scope' is missing from the credential. Ensure that you have all the necessary parameters for the login request.")
	}
	return out, nil
}

func (lr *loginReq) clientCredentials(v2 bool) (map[string]any, int, *stsError) {
	app, e := lr.clientApp()
	if e != nil {
		return nil, 0, e
	}
	appID := str(app.Props, "appId")
	acr, e := lr.authenticateClient(app)
	if e != nil {
		lr.recordServicePrincipalSignIn(app, nil, e)
		return nil, 0, e
	}
	scopes, e := lr.requestedScopes(v2)
	if e != nil {
		return nil, 0, e
	}
	if len(scopes) != 1 || !strings.HasSuffix(scopes[0], "/.default") {
		for _, sc := range scopes {
			if !strings.HasSuffix(sc, "/.default") {
				return nil, 0, serr(http.StatusBadRequest, "invalid_scope", 1002012,
					"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", lr.r.PostForm.Get("scope"))
			}
		}
		return nil, 0, serr(http.StatusBadRequest, "invalid_scope", 70011,
			"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", lr.r.PostForm.Get("scope"))
	}
	resource := strings.TrimSuffix(scopes[0], "/.default")
	res, aud, e := lr.resolveResource(resource)
	if e != nil {
		return nil, 0, e
	}
	sp := lr.s.t.spByAppID(appID)
	if sp == nil || !lr.s.replicated(sp.Created) {
		e := serr(http.StatusBadRequest, "invalid_client", 7000229,
			"The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", appID, lr.s.t.TenantID)
		if sp != nil {
			e.Fault = "replication"
		}
		return nil, 0, e
	}
	spID := str(sp.Props, "id")
	now := time.Now()
	claims := lr.baseAccessClaims(aud, now)
	claims["app_displayname"] = str(app.Props, "displayName")
	claims["appid"] = appID
	claims["appidacr"] = acr
	claims["idtyp"] = "app"
	claims["oid"] = spID
	claims["sub"] = spID
	if roles := lr.s.t.appRoleValues(spID, str(res.Props, "id")); len(roles) > 0 {
		claims["roles"] = anyList(roles)
	}
	if wids := lr.s.t.directoryRoleTemplates(spID); len(wids) > 0 {
		claims["wids"] = anyList(wids)
	}
	at, err := lr.s.sign(claims)
	if err != nil {
		return nil, 0, serr(http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
	}
	lr.recordServicePrincipalSignIn(app, res, nil)
	return lr.tokenResponse(v2, at, aud, now, nil), http.StatusOK, nil
}

// authenticateClient checks client_secret or client_assertion and returns
// the appidacr value ("1" secret, "2" certificate).
func (lr *loginReq) authenticateClient(app *application) (string, *stsError) {
	form := lr.r.PostForm
	appID := str(app.Props, "appId")
	secret, hasSecret := form.Get("client_secret"), form.Has("client_secret")
	if !hasSecret {
		// client_secret_basic
		if u, p, ok := lr.r.BasicAuth(); ok && strings.EqualFold(u, appID) {
			secret, hasSecret = p, true
		}
	}
	assertion := form.Get("client_assertion")
	switch {
	case hasSecret && assertion != "":
		return "", serr(http.StatusBadRequest, "invalid_request", 7000219, "'client_assertion' or 'client_secret' must be provided, but not both.")
	case hasSecret:
		return "1", lr.checkSecret(app, secret)
	case assertion != "":
		if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return "", serr(http.StatusBadRequest, "invalid_request", 700025, "'client_assertion_type' must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")
		}
		return "2", lr.checkAssertion(app, assertion)
	}
	return "", serr(http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func (lr *loginReq) checkSecret(app *application, secret string) *stsError {
	appID := str(app.Props, "appId")
	now := time.Now()
	expired, lagging := false, false
	creds := map[string]map[string]any{}
	for _, c := range objList(app.Props["passwordCredentials"]) {
		creds[strings.ToLower(str(c, "keyId"))] = c
	}
	for _, rec := range app.Secrets {
		if !rec.matches(secret) {
			continue
		}
		c := creds[strings.ToLower(rec.KeyID)]
		if c == nil {
			continue
		}
		if !lr.s.replicated(app.CredAdded[rec.KeyID]) {
			lagging = true
			continue
		}
		if start, ok := parseGraphTime(str(c, "startDateTime")); ok && now.Before(start) {
			continue
		}
		if end, ok := parseGraphTime(str(c, "endDateTime")); ok && now.After(end) {
			expired = true
			continue
		}
		return nil
	}
	if expired {
		return serr(http.StatusUnauthorized, "invalid_client", 7000222,
			"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", appID)
	}
	e := serr(http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", appID)
	if lagging {
		e.Fault = "replication"
	}
	return e
}

const certDocs = "Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials ."

func (lr *loginReq) checkAssertion(app *application, assertion string) *stsError {
	appID := str(app.Props, "appId")
	tok, err := parseJWT(assertion)
	if err != nil {
		return serr(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
	}
	if alg := tok.alg(); alg != "RS256" && alg != "PS256" {
		return serr(http.StatusBadRequest, "invalid_request", 5002738, "Invalid JWT token. '%s' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'", alg)
	}
	var want []byte
	sha256Mode := false
	if h := tok.headerStr("x5t#S256"); h != "" {
		want, sha256Mode = decodeThumbprint(h), true
	} else if h := tok.headerStr("x5t"); h != "" {
		want = decodeThumbprint(h)
	}
	thumbHex := strings.ToUpper(hex.EncodeToString(want))
	keyNotFound := func(reason string) *stsError {
		return serr(http.StatusUnauthorized, "invalid_client", 700027,
			"The certificate with identifier used to sign the client assertion is not registered on application. [Reason - %s, Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/v1.0/applications/%s']",
			reason, thumbHex, appID, str(app.Props, "id"))
	}
	if len(want) == 0 {
		return keyNotFound("The key was not found.")
	}
	now := time.Now()
	var match map[string]any
	var matchDER []byte
	lagging := false
	for _, kc := range objList(app.Props["keyCredentials"]) {
		if str(kc, "type") != "AsymmetricX509Cert" || str(kc, "usage") != "Verify" {
			continue
		}
		der, err := decodeBinary(str(kc, "key"))
		if err != nil {
			continue
		}
		s1, s256 := certThumbprints(der)
		if (sha256Mode && string(s256) == string(want)) || (!sha256Mode && string(s1) == string(want)) {
			if !lr.s.replicated(app.CredAdded[str(kc, "keyId")]) {
				lagging = true
				continue
			}
			match, matchDER = kc, der
			break
		}
	}
	if match == nil {
		e := keyNotFound("The key was not found.")
		if lagging {
			e.Fault = "replication"
		}
		return e
	}
	if end, ok := parseGraphTime(str(match, "endDateTime")); ok && now.After(end) {
		return keyNotFound("The key used is expired.")
	}
	if start, ok := parseGraphTime(str(match, "startDateTime")); ok && now.Before(start) {
		return keyNotFound("The key used is not yet valid.")
	}
	cert, err := x509.ParseCertificate(matchDER)
	if err != nil {
		return keyNotFound("The key was not found.")
	}
	pub, isRSA := rsaPublicKey(cert)
	if !isRSA || tok.verify(pub) != nil {
		return serr(http.StatusUnauthorized, "invalid_client", 700027,
			"Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']",
			thumbHex, str(match, "startDateTime"), str(match, "endDateTime"))
	}
	if !strings.EqualFold(tok.str("iss"), appID) || !strings.EqualFold(tok.str("sub"), appID) {
		return serr(http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. %s", certDocs)
	}
	if !lr.assertionAudienceOK(tok.str("aud")) {
		return serr(http.StatusUnauthorized, "invalid_client", 50012, "Client assertion audience claim does not match Realm issuer. %s", certDocs)
	}
	exp, hasExp := tok.num("exp")
	nbf, hasNbf := tok.num("nbf")
	if !hasExp || now.After(time.Unix(exp, 0).Add(clockSkew)) || hasNbf && now.Add(clockSkew).Before(time.Unix(nbf, 0)) {
		from := "unknown"
		if hasNbf {
			from = time.Unix(nbf, 0).UTC().Format("2006-01-02T15:04:05.0000000Z")
		}
		return serr(http.StatusUnauthorized, "invalid_client", 700024,
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. %s",
			now.UTC().Format("2006-01-02T15:04:05.0000000Z"), from, time.Unix(exp, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"), certDocs)
	}
	return nil
}

// assertionAudienceOK accepts the token endpoint (v2 or v1, tenant as id or
// verified domain) on this host, or the tenant's v2 issuer.
func (lr *loginReq) assertionAudienceOK(aud string) bool {
	u, err := url.Parse(aud)
	if err != nil || !strings.EqualFold(u.Scheme, "https") {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Host), ":443")
	if host != strings.ToLower(lr.host) && (lr.cloud == "" || authorityCloud(host) != lr.cloud) {
		return false
	}
	p := splitPath(u.Path)
	if len(p) == 0 || !lr.s.t.matchesTenant(p[0]) && !strings.EqualFold(p[0], lr.tenant) {
		return false
	}
	rest := strings.ToLower(strings.Join(p[1:], "/"))
	return rest == "oauth2/v2.0/token" || rest == "oauth2/token" || rest == "v2.0"
}

// resolveResource finds the resource service principal for a resource
// identifier (application ID URI or appId) and returns the token audience.
// A national cloud's authority only issues tokens for its own cloud's
// resources; the sandbox's own authority issues for any. First-party
// resources and their identifiers per cloud come from the fixtures.
func (lr *loginReq) resolveResource(resource string) (*servicePrincipal, string, *stsError) {
	t := lr.s.t
	r := strings.TrimSuffix(resource, "/")
	lower := strings.ToLower(r)
	sameCloud := func(c string) bool {
		if lr.cloud == "" {
			return true
		}
		if lr.cloud == cloud.USGov.Name {
			return c == cloud.USGov.Name || c == cloud.USGovDoD.Name
		}
		return c == lr.cloud
	}
	for _, res := range fixtures().resources {
		for _, c := range fixtureCloudOrder {
			if !sameCloud(c) {
				continue
			}
			for _, id := range res.identifiers(c) {
				if lower != strings.ToLower(strings.TrimSuffix(id, "/")) {
					continue
				}
				aud := strings.TrimSuffix(id, "/")
				if res.AppID == armAppID {
					// ARM tokens carry the resource as requested: both
					// forms are audiences ARM accepts (endpoints.md §14).
					aud = resource
				}
				return t.spByAppID(res.AppID), aud, nil
			}
		}
		if lower == res.AppID {
			return t.spByAppID(res.AppID), lower, nil
		}
	}
	if lr.cloud == "" && strings.HasPrefix(lower, "https://") && lr.s.isOwnHost(strings.TrimPrefix(lower, "https://")) {
		return t.spByAppID(graphAppID), lower, nil
	}
	for _, sp := range t.ServicePrincipals {
		if sp.Builtin != "" {
			continue
		}
		for _, n := range strList(sp.Props["servicePrincipalNames"]) {
			if strings.EqualFold(strings.TrimSuffix(n, "/"), r) && lr.s.replicated(sp.Created) {
				return sp, r, nil
			}
		}
	}
	return nil, "", serr(http.StatusBadRequest, "invalid_resource", 500011,
		"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
		resource, t.DisplayName)
}

// baseAccessClaims are the claims every access token carries (v1 format, as
// Microsoft Graph tokens are).
func (lr *loginReq) baseAccessClaims(aud string, now time.Time) map[string]any {
	t := lr.s.t
	iss := issuerFor(lr.cloud, lr.host, t.TenantID)
	return map[string]any{
		"aud":      aud,
		"iss":      iss,
		"idp":      iss,
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(accessTokenLifetime).Unix(),
		"aio":      randString(40, secretAlphabet[:62]),
		"rh":       "0." + randString(40, secretAlphabet[:62]),
		"tid":      t.TenantID,
		"uti":      randString(22, secretAlphabet[:64]),
		"ver":      "1.0",
		"xms_tcdt": t.CreatedDateTime.Unix(),
	}
}

// sign signs claims with the tenant's signing key (kid and x5t = SHA-1
// thumbprint of its certificate, as Entra's keys are named).
func (s *Server) sign(claims map[string]any) (string, error) {
	sha1Sum, _ := certThumbprints(s.signing.cert.Raw)
	kid := base64.RawURLEncoding.EncodeToString(sha1Sum)
	return signJWT(s.signing.key, map[string]any{"kid": kid, "x5t": kid}, claims)
}

func (lr *loginReq) tokenResponse(v2 bool, at, aud string, now time.Time, extra map[string]any) map[string]any {
	secs := int(accessTokenLifetime.Seconds())
	var out map[string]any
	if v2 {
		out = map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": at}
	} else {
		out = map[string]any{
			"token_type": "Bearer", "expires_in": strconv.Itoa(secs), "ext_expires_in": strconv.Itoa(secs),
			"expires_on": strconv.FormatInt(now.Add(accessTokenLifetime).Unix(), 10), "not_before": strconv.FormatInt(now.Unix(), 10),
			"resource": aud, "access_token": at,
		}
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func (lr *loginReq) writeError(w http.ResponseWriter, e *stsError) {
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	desc := fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", e.Code, e.Desc, lr.traceID, lr.corrID, ts)
	host := lr.host
	if host == "" {
		host = "login.microsoftonline.com"
	}
	body := map[string]any{
		"error":             e.Err,
		"error_description": desc,
		"error_codes":       []int{e.Code},
		"timestamp":         ts,
		"trace_id":          lr.traceID,
		"correlation_id":    lr.corrID,
		"error_uri":         "https://" + host + "/error?code=" + strconv.Itoa(e.Code),
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("x-ms-request-id", lr.traceID)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

func (lr *loginReq) writeRule(w http.ResponseWriter, r *activeRule) {
	for k, v := range r.Headers {
		w.Header().Set(k, v)
	}
	if len(r.Body) > 0 {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(r.Status)
		_, _ = w.Write(r.Body)
		return
	}
	e := serr(r.Status, "temporarily_unavailable", 50000, "There was an error issuing a token or an issue with our sign-in service.")
	switch r.Status {
	case http.StatusBadRequest:
		e.Err = "invalid_request"
	case http.StatusUnauthorized:
		e = serr(r.Status, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", lr.r.PostForm.Get("client_id"))
	case http.StatusTooManyRequests:
		e.Desc = "The request was throttled. Please retry after a delay."
	}
	lr.writeError(w, e)
}

// --- device code and user tokens ---

func (lr *loginReq) publicClient() (clientID, name string, app *application, e *stsError) {
	clientID = lr.r.PostForm.Get("client_id")
	if clientID == "" {
		return "", "", nil, serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if n, ok := publicClientName(clientID); ok {
		return strings.ToLower(clientID), n, nil, nil
	}
	app, e = lr.clientApp()
	if e != nil {
		return "", "", nil, e
	}
	return str(app.Props, "appId"), str(app.Props, "displayName"), app, nil
}

func (lr *loginReq) deviceCodeStart(v2 bool) (map[string]any, int, *stsError) {
	if _, e := lr.tenantKind(); e != nil {
		return nil, 0, e
	}
	clientID, _, _, e := lr.publicClient()
	if e != nil {
		return nil, 0, e
	}
	scopes, e := lr.requestedScopes(v2)
	if e != nil {
		return nil, 0, e
	}
	if _, e := lr.resolveDelegated(scopes); e != nil {
		return nil, 0, e
	}
	code := randString(64, secretAlphabet[:64])
	userCode := randString(9, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
	lr.s.deviceCodes[code] = &deviceCode{clientID: clientID, scopes: scopes, rawScope: lr.r.PostForm.Get("scope"), created: time.Now()}
	verify := "https://microsoft.com/devicelogin"
	if lr.cloud == "" {
		verify = "https://" + lr.host + "/devicelogin"
	}
	return map[string]any{
		"user_code":        userCode,
		"device_code":      code,
		"verification_uri": verify,
		"expires_in":       int(deviceCodeLifetime.Seconds()),
		"interval":         5,
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, userCode),
	}, http.StatusOK, nil
}

// delegatedRequest is a parsed set of delegated scopes for one resource.
type delegatedRequest struct {
	sp       *servicePrincipal
	resource string   // resource identifier as requested (or the default Graph)
	aud      string   // token audience
	values   []string // permission values; ".default" for the default scope
}

// resolveDelegated splits delegated scopes into their resource and
// permission values, validating them against the resource's published
// scopes. A scope without a resource prefix names Microsoft Graph.
func (lr *loginReq) resolveDelegated(scopes []string) (*delegatedRequest, *stsError) {
	var resource string
	var values []string
	for _, sc := range scopes {
		res, val := "", sc
		if strings.Contains(sc, "://") {
			if i := strings.LastIndex(sc, "/"); i > strings.Index(sc, "://")+2 {
				res, val = sc[:i], sc[i+1:]
			}
		} else if first, rest, found := strings.Cut(sc, "/"); found && isGUID(first) {
			res, val = first, rest
		}
		if res == "" {
			res = lr.defaultGraphResource()
		}
		if resource == "" {
			resource = res
		} else if !strings.EqualFold(strings.TrimSuffix(resource, "/"), strings.TrimSuffix(res, "/")) {
			return nil, serr(http.StatusBadRequest, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", strings.Join(scopes, " "))
		}
		values = append(values, val)
	}
	sp, aud, e := lr.resolveResource(resource)
	if e != nil {
		return nil, e
	}
	published := map[string]bool{}
	for _, p := range objList(sp.Props["oauth2PermissionScopes"]) {
		published[strings.ToLower(str(p, "value"))] = true
	}
	for _, v := range values {
		if v != ".default" && !published[strings.ToLower(v)] {
			return nil, serr(http.StatusBadRequest, "invalid_scope", 70011,
				"The provided value for the input parameter 'scope' is not valid. The scope '%s' does not exist.", strings.Join(scopes, " "))
		}
	}
	return &delegatedRequest{sp: sp, resource: strings.TrimSuffix(resource, "/"), aud: aud, values: values}, nil
}

func (lr *loginReq) defaultGraphResource() string {
	for _, c := range cloud.All() {
		if c.Name == lr.cloud {
			return c.GraphEndpoint
		}
	}
	return "https://" + lr.host
}

func (lr *loginReq) deviceCodeToken(v2 bool) (map[string]any, int, *stsError) {
	code := lr.r.PostForm.Get("device_code")
	if code == "" {
		code = lr.r.PostForm.Get("code")
	}
	dc := lr.s.deviceCodes[code]
	if dc == nil {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'device_code' is not valid.")
	}
	if time.Since(dc.created) > deviceCodeLifetime {
		delete(lr.s.deviceCodes, code)
		return nil, 0, serr(http.StatusBadRequest, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
	}
	if !strings.EqualFold(lr.r.PostForm.Get("client_id"), dc.clientID) {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'device_code' is not valid.")
	}
	dc.polls++
	if dc.polls == 1 {
		// Approval happens "in the browser" after the first poll.
		return nil, 0, serr(http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	delete(lr.s.deviceCodes, code)
	body, status, e := lr.userToken(v2, dc.clientID, lr.s.signInUserID(), dc.scopes, dc.rawScope, true)
	if e == nil {
		lr.recordUserSignIn(dc.clientID, lr.s.signInUserID())
	}
	return body, status, e
}

// userToken issues a delegated token for userID. rawScope is the scope
// parameter as requested (for its OIDC scopes). consent lets the signed-in
// user consent to missing scopes (interactive flows); refresh does not.
func (lr *loginReq) userToken(v2 bool, clientID, userID string, scopes []string, rawScope string, consent bool) (map[string]any, int, *stsError) {
	t := lr.s.t
	u := t.Users[userID]
	if u == nil {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the '%s' directory.", t.TenantID)
	}
	clientName, isFirstParty := publicClientName(clientID)
	var app *application
	if !isFirstParty {
		app = t.appByAppID(clientID)
		if app == nil || !lr.s.replicated(app.Created) {
			return nil, 0, lr.appNotFound(clientID)
		}
		clientName = str(app.Props, "displayName")
		if pub, _ := app.Props["isFallbackPublicClient"].(bool); !pub && !lr.clientAuthenticated {
			return nil, 0, serr(http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		}
	}
	dr, e := lr.resolveDelegated(scopes)
	if e != nil {
		return nil, 0, e
	}
	res, values := dr.sp, dr.values
	resID := str(res.Props, "id")
	granted, grantedList := t.grantedScopes(clientID, resID, userID)
	addGranted := func(s string) {
		if s != "" && !granted[strings.ToLower(s)] {
			granted[strings.ToLower(s)] = true
			grantedList = append(grantedList, s)
		}
	}
	missing, adminScopes := lr.s.missingConsent(clientID, userID, dr)
	if len(missing) > 0 || len(grantedList) == 0 && contains(values, ".default") {
		canConsent := consent && len(missing) > 0 && (!adminScopes || t.hasRole(userID, consentAdminRoles...))
		if !canConsent {
			return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 65001,
				"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", clientID, clientName)
		}
		lr.s.consent(clientID, clientName, userID, resID, missing)
		for _, m := range missing {
			addGranted(m)
		}
	}
	now := time.Now()
	aud, resource := dr.aud, dr.resource
	claims := lr.baseAccessClaims(aud, now)
	upn := str(u.Props, "userPrincipalName")
	claims["acr"] = "1"
	claims["amr"] = []any{"pwd", "mfa"}
	claims["app_displayname"] = clientName
	claims["appid"] = clientID
	claims["appidacr"] = "0"
	claims["family_name"] = str(u.Props, "surname")
	claims["given_name"] = str(u.Props, "givenName")
	claims["idtyp"] = "user"
	claims["ipaddr"] = "127.0.0.1"
	claims["name"] = str(u.Props, "displayName")
	claims["oid"] = userID
	claims["platf"] = "3"
	claims["scp"] = strings.Join(append(grantedList, graphOIDCScopes(res, rawScope)...), " ")
	claims["sub"] = pairwiseSub(userID, clientID)
	claims["unique_name"] = upn
	claims["upn"] = upn
	claims["wids"] = anyList(append(t.directoryRoleTemplates(userID), "b79fbf4d-3ef9-4689-8143-76b194e85509"))
	at, err := lr.s.sign(claims)
	if err != nil {
		return nil, 0, serr(http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
	}
	idt, err := lr.s.sign(map[string]any{
		"aud": clientID, "iss": "https://" + lr.host + "/" + t.TenantID + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(accessTokenLifetime).Unix(),
		"name": str(u.Props, "displayName"), "oid": userID, "preferred_username": upn,
		"rh": "0." + randString(40, secretAlphabet[:62]), "sub": pairwiseSub(userID, clientID),
		"tid": t.TenantID, "uti": randString(22, secretAlphabet[:64]), "ver": "2.0",
	})
	if err != nil {
		return nil, 0, serr(http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
	}
	rt, err := lr.s.sign(map[string]any{"typ": "sandbox-rt", "client": clientID, "user": userID, "tid": t.TenantID, "exp": now.Add(refreshLifetime).Unix()})
	if err != nil {
		return nil, 0, serr(http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
	}
	ci, _ := json.Marshal(map[string]string{"uid": userID, "utid": t.TenantID})
	// The granted scope list echoes the request (MSAL treats requested
	// scopes missing from it as declined) plus what was consented.
	scopeOut := append([]string(nil), scopes...)
	prefix := resource + "/"
	for _, g := range grantedList {
		if !contains(scopeOut, prefix+g) && !contains(scopeOut, g) {
			scopeOut = append(scopeOut, prefix+g)
		}
	}
	extra := map[string]any{
		"scope":         strings.Join(append(scopeOut, "openid", "profile", "offline_access"), " "),
		"refresh_token": rt,
		"id_token":      idt,
		"client_info":   base64.RawURLEncoding.EncodeToString(ci),
	}
	return lr.tokenResponse(v2, at, aud, now, extra), http.StatusOK, nil
}

// graphOIDCScopes returns the OpenID Connect scopes of a request that
// Microsoft Graph publishes as delegated permissions (openid, profile,
// email); Entra lists them in scp of Graph tokens.
func graphOIDCScopes(res *servicePrincipal, rawScope string) []string {
	if str(res.Props, "appId") != graphAppID {
		return nil
	}
	var out []string
	for _, sc := range strings.Fields(rawScope) {
		switch low := strings.ToLower(sc); low {
		case "openid", "profile", "email":
			if !contains(out, low) {
				out = append(out, low)
			}
		}
	}
	return out
}

func pairwiseSub(userID, clientID string) string {
	sum := sha256.Sum256([]byte(userID + "|" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

func (lr *loginReq) refreshToken(v2 bool) (map[string]any, int, *stsError) {
	raw := lr.r.PostForm.Get("refresh_token")
	bad := serr(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	tok, err := parseJWT(raw)
	if err != nil || tok.verify(&lr.s.signing.key.PublicKey) != nil || tok.str("typ") != "sandbox-rt" || tok.str("tid") != lr.s.t.TenantID {
		return nil, 0, bad
	}
	if exp, ok := tok.num("exp"); !ok || time.Now().After(time.Unix(exp, 0)) {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 700082, "The refresh token has expired due to inactivity.")
	}
	if !strings.EqualFold(tok.str("client"), lr.r.PostForm.Get("client_id")) {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
	}
	scopes, e := lr.requestedScopes(v2)
	if e != nil {
		return nil, 0, e
	}
	return lr.userToken(v2, tok.str("client"), tok.str("user"), scopes, lr.r.PostForm.Get("scope"), false)
}

// consent records a user's consent to scopes, as Entra does when a user
// accepts the consent prompt: the client gets a service principal in the
// tenant if it had none, and the user a Principal delegated grant.
func (s *Server) consent(clientID, clientName, userID, resourceID string, scopes []string) {
	t := s.t
	sp := t.spByAppID(clientID)
	now := time.Now()
	if sp == nil {
		if app := t.appByAppID(clientID); app != nil {
			id := newGUID()
			sp = &servicePrincipal{Props: newServicePrincipalProps(t, id, app.Props, now), Created: now, Seq: t.seq()}
		} else {
			sp = builtinSP(t, clientID, clientName, "client", now)
			sp.Created = now
		}
		t.ServicePrincipals[str(sp.Props, "id")] = sp
	}
	spID := str(sp.Props, "id")
	for _, g := range t.Grants {
		if g.ClientID == spID && g.ResourceID == resourceID && g.ConsentType == "Principal" && g.PrincipalID == userID {
			have := strings.Fields(g.Scope)
			for _, sc := range scopes {
				if !contains(have, sc) {
					have = append(have, sc)
				}
			}
			g.Scope = strings.Join(have, " ")
			s.persist()
			return
		}
	}
	sort.Strings(scopes)
	g := &permissionGrant{ID: opaqueID(spID, resourceID, userID), ClientID: spID, ConsentType: "Principal", PrincipalID: userID,
		ResourceID: resourceID, Scope: strings.Join(scopes, " "), Created: now, Seq: t.seq()}
	t.Grants[g.ID] = g
	s.persist()
}

// persist saves the tenant after a change made outside a Graph handler.
// Callers hold s.mu.
func (s *Server) persist() {
	if err := s.save(); err != nil {
		s.logf("sandbox: %v", err)
	}
}
