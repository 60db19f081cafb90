package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The authorization code flow (OAuth 2.0 with PKCE) as Entra runs it for
// interactive sign-ins — what MSAL's AcquireTokenInteractive and so
// azidentity's InteractiveBrowserCredential use:
//
//	GET  /{tenant}/oauth2/v2.0/authorize   validate, then the sign-in page
//	POST /{tenant}/oauth2/v2.0/authorize   the page's forms: user name,
//	                                       then consent (or "need admin
//	                                       approval"), then the response to
//	                                       the redirect URI (query or
//	                                       form_post, as asked)
//	POST /{tenant}/oauth2/v2.0/token       grant_type=authorization_code
//	                                       with code_verifier; then refresh
//
// The sandbox's users have no passwords: the sign-in page asks for the
// user name only. Everything else — redirect URI rules, consent, the admin
// roles needed to consent to admin scopes, single-use codes, PKCE — is
// enforced. AADSTS wordings are [observed] in public captures of Entra's
// responses; the reference documents none of them.

// Lifetimes of the interactive flow.
const (
	authCodeLifetime    = 10 * time.Minute
	authRequestLifetime = 30 * time.Minute
)

// authRequest is a validated authorize request waiting for the user.
type authRequest struct {
	clientID, clientName string
	tenantSeg            string
	redirectURI          string
	responseMode         string // query or form_post
	state, nonce         string
	rawScope             string
	scopes               []string // resource scopes (OIDC scopes removed)
	challenge, method    string
	loginHint            string
	public               bool // a public client (no client secret at the token endpoint)
	userID               string
	created              time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	req      *authRequest
	created  time.Time
	redeemed bool
}

// page is an HTML (or redirect) answer of the authorize endpoint.
type page struct {
	status   int
	location string
	title    string
	body     string // HTML inside <body>
	onload   string // JavaScript run on load (form_post)
}

func (p *page) write(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("X-Frame-Options", "DENY")
	if p.location != "" {
		w.Header().Set("Location", p.location)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(p.status)
	onload := ""
	if p.onload != "" {
		onload = ` onload="` + html.EscapeString(p.onload) + `"`
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body%s>\n%s\n</body></html>\n",
		html.EscapeString(p.title), onload, p.body)
}

// errorPage is what Entra shows when it cannot send the user back to the
// application (no valid client or redirect URI).
func (lr *loginReq) errorPage(e *stsError) *page {
	return &page{status: e.Status, title: "Sign in to your account", body: fmt.Sprintf(
		"<h1>Sign in</h1>\n<p>Sorry, but we're having trouble signing you in.</p>\n<p id=\"error\">AADSTS%d: %s</p>\n<p>Trace ID: %s<br>Correlation ID: %s</p>",
		e.Code, html.EscapeString(e.Desc), lr.traceID, lr.corrID)}
}

// isAuthorize reports whether the request is for the authorize endpoint.
func (lr *loginReq) isAuthorize() bool {
	return len(lr.segs) == 4 && strings.EqualFold(lr.segs[1], "oauth2") && strings.EqualFold(lr.segs[2], "v2.0") && strings.EqualFold(lr.segs[3], "authorize")
}

// authorize answers GET and POST on the authorize endpoint. Callers hold s.mu.
func (lr *loginReq) authorize() *page {
	switch lr.r.Method {
	case http.MethodGet:
		return lr.authorizeStart()
	case http.MethodPost:
		return lr.authorizeStep()
	}
	return &page{status: http.StatusMethodNotAllowed, title: "Sign in to your account", body: "<p>Method not allowed.</p>"}
}

func (lr *loginReq) authorizeStart() *page {
	q := lr.r.URL.Query()
	if _, e := lr.tenantKind(); e != nil {
		return lr.errorPage(e)
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return lr.errorPage(serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."))
	}
	req := &authRequest{clientID: strings.ToLower(clientID), tenantSeg: lr.tenant, state: q.Get("state"), nonce: q.Get("nonce"),
		rawScope: q.Get("scope"), loginHint: q.Get("login_hint"), created: time.Now()}
	var app *application
	if name, ok := publicClientName(clientID); ok {
		req.clientName, req.public = name, true
	} else {
		app = lr.s.t.appByAppID(clientID)
		if app == nil || !lr.s.replicated(app.Created) {
			return lr.errorPage(lr.appNotFound(clientID))
		}
		req.clientName = str(app.Props, "displayName")
	}
	redirect := q.Get("redirect_uri")
	public, ok := redirectRegistered(app, redirect)
	if !ok {
		return lr.errorPage(serr(http.StatusBadRequest, "invalid_request", 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
			redirect, clientID))
	}
	req.redirectURI = redirect
	req.public = req.public || public
	// From here on errors go back to the application.
	switch mode := q.Get("response_mode"); mode {
	case "", "query":
		req.responseMode = "query"
	case "form_post":
		req.responseMode = mode
	default:
		req.responseMode = "query"
		return lr.redirectError(req, "invalid_request", 900144, fmt.Sprintf("The response_mode '%s' is not supported by the entra-link sandbox; use query or form_post.", mode))
	}
	if rt := q.Get("response_type"); rt != "code" {
		return lr.redirectError(req, "unsupported_response_type", 700054, fmt.Sprintf("response_type '%s' is not enabled for the application.", rt))
	}
	req.challenge, req.method = q.Get("code_challenge"), q.Get("code_challenge_method")
	if req.challenge != "" && req.method == "" {
		req.method = "plain"
	}
	if req.method != "" && req.method != "S256" && req.method != "plain" {
		return lr.redirectError(req, "invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
	}
	var scopes []string
	for _, sc := range strings.Fields(req.rawScope) {
		if !oidcScopes[strings.ToLower(sc)] {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		// Only OIDC scopes: the sign-in is for Microsoft Graph's openid/profile.
		scopes = []string{"openid"}
	}
	req.scopes = scopes
	if _, e := lr.resolveDelegated(scopes); e != nil {
		return lr.redirectError(req, e.Err, e.Code, e.Desc)
	}
	if q.Get("prompt") == "none" {
		// No session cookie exists in the sandbox: nothing to sign in silently with.
		return lr.redirectError(req, "login_required", 50058, "A silent sign-in request was sent but no user is signed in.")
	}
	lr.s.gcAuth()
	ctx := randString(43, secretAlphabet[:64])
	lr.s.authRequests[ctx] = req
	return lr.signInPage(ctx, req, req.loginHint, "")
}

// redirectRegistered reports whether redirect is a redirect URI of the
// client, and whether it is a public-client (mobile and desktop) one.
// Microsoft's first-party public clients take the loopback
// http://localhost with any port; for loopback URIs Entra ignores the
// port (RFC 8252 §7.3).
func redirectRegistered(app *application, redirect string) (public, ok bool) {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme == "" || u.Fragment != "" {
		return false, false
	}
	loopback := u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1")
	if app == nil {
		return true, loopback
	}
	same := func(registered string) bool {
		if registered == redirect {
			return true
		}
		r, err := url.Parse(registered)
		if err != nil || !loopback || r.Scheme != "http" || r.Hostname() != u.Hostname() {
			return false
		}
		return strings.TrimSuffix(r.Path, "/") == strings.TrimSuffix(u.Path, "/") && r.RawQuery == u.RawQuery
	}
	for _, platform := range []string{"publicClient", "web", "spa"} {
		p, _ := app.Props[platform].(map[string]any)
		for _, reg := range strList(p["redirectUris"]) {
			if same(reg) {
				return platform != "web", true
			}
		}
	}
	return false, false
}

// signInPage asks for the user name (no password: sandbox users have none).
func (lr *loginReq) signInPage(ctx string, req *authRequest, login, problem string) *page {
	msg := ""
	if problem != "" {
		msg = "<p id=\"error\" role=\"alert\">" + html.EscapeString(problem) + "</p>\n"
	}
	return &page{status: http.StatusOK, title: "Sign in to your account", body: fmt.Sprintf(`<h1>Sign in</h1>
<p>to continue to %s</p>
<p>%s (entra-link sandbox: no password is asked)</p>
%s<form method="post" action="%s">
<input type="hidden" name="ctx" value="%s">
<input type="hidden" name="step" value="signin">
<label for="login">Email, phone, or Skype</label>
<input type="email" id="login" name="login" value="%s" autocomplete="username">
<button type="submit" id="next">Next</button>
</form>`, html.EscapeString(req.clientName), html.EscapeString(lr.s.t.DisplayName), msg, html.EscapeString(lr.authorizePath(req)),
		ctx, html.EscapeString(login))}
}

func (lr *loginReq) authorizePath(req *authRequest) string {
	return "/" + url.PathEscape(req.tenantSeg) + "/oauth2/v2.0/authorize"
}

// authorizeStep handles the sign-in page's forms.
func (lr *loginReq) authorizeStep() *page {
	form := lr.r.PostForm
	ctx := form.Get("ctx")
	req := lr.s.authRequests[ctx]
	if req == nil || time.Since(req.created) > authRequestLifetime {
		delete(lr.s.authRequests, ctx)
		return lr.errorPage(serr(http.StatusBadRequest, "invalid_request", 50058, "Session information is not sufficient for single-sign-on. Start the sign-in again from the application."))
	}
	switch form.Get("step") {
	case "signin":
		login := strings.TrimSpace(form.Get("login"))
		u := lr.s.t.userByUPN(login)
		if u == nil || !lr.s.replicated(u.Created) {
			return lr.signInPage(ctx, req, login, "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.")
		}
		if enabled, _ := u.Props["accountEnabled"].(bool); !enabled {
			return lr.signInPage(ctx, req, login, "Your account has been locked. Contact your support person to unlock it, then try again.")
		}
		req.userID = str(u.Props, "id")
		return lr.consentOrCode(ctx, req, false)
	case "consent":
		if req.userID == "" {
			return lr.signInPage(ctx, req, req.loginHint, "")
		}
		if form.Get("accept") != "yes" {
			delete(lr.s.authRequests, ctx)
			return lr.redirectError(req, "access_denied", 65004, "User declined to consent to access the app.")
		}
		return lr.consentOrCode(ctx, req, true)
	case "return":
		delete(lr.s.authRequests, ctx)
		return lr.redirectError(req, "access_denied", 90094, "Admin consent is required for the permissions requested by this application.")
	}
	return lr.errorPage(serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'step'."))
}

// consentOrCode shows the consent page for scopes the user has not
// consented to (or, when one of them needs an admin and the user is none,
// "need admin approval"); with accepted set, it records the consent. Once
// nothing is missing it sends the code back to the application.
func (lr *loginReq) consentOrCode(ctx string, req *authRequest, accepted bool) *page {
	dr, e := lr.resolveDelegated(req.scopes)
	if e != nil {
		delete(lr.s.authRequests, ctx)
		return lr.redirectError(req, e.Err, e.Code, e.Desc)
	}
	t := lr.s.t
	missing, admin := lr.s.missingConsent(req.clientID, req.userID, dr)
	if len(missing) > 0 {
		if admin && !t.hasRole(req.userID, consentAdminRoles...) {
			return &page{status: http.StatusOK, title: "Need admin approval", body: fmt.Sprintf(`<h1>Need admin approval</h1>
<p>%s needs permission to access resources in your organization that only an admin can grant. Ask an admin to grant permission to this app before you can use it.</p>
<form method="post" action="%s">
<input type="hidden" name="ctx" value="%s">
<input type="hidden" name="step" value="return">
<button type="submit" id="return">Return to the application without granting consent</button>
</form>`, html.EscapeString(req.clientName), html.EscapeString(lr.authorizePath(req)), ctx)}
		}
		if !accepted {
			var items strings.Builder
			for _, m := range missing {
				fmt.Fprintf(&items, "<li>%s</li>\n", html.EscapeString(scopeDescription(dr.sp, m)))
			}
			return &page{status: http.StatusOK, title: "Permissions requested", body: fmt.Sprintf(`<h1>Permissions requested</h1>
<p>%s</p>
<p>This app would like to:</p>
<ul id="permissions">
%s</ul>
<form method="post" action="%s">
<input type="hidden" name="ctx" value="%s">
<input type="hidden" name="step" value="consent">
<button type="submit" name="accept" value="yes" id="accept">Accept</button>
<button type="submit" name="accept" value="no" id="cancel">Cancel</button>
</form>`, html.EscapeString(req.clientName), items.String(), html.EscapeString(lr.authorizePath(req)), ctx)}
		}
		lr.s.consent(req.clientID, req.clientName, req.userID, str(dr.sp.Props, "id"), missing)
	}
	delete(lr.s.authRequests, ctx)
	code := randString(64, secretAlphabet[:64])
	lr.s.authCodes[code] = &authCode{req: req, created: time.Now()}
	return lr.respond(req, url.Values{"code": {code}, "session_state": {newGUID()}})
}

// consentAdminRoles may consent to scopes that need an admin (endpoints.md
// §13: Application and Cloud Application Administrators may consent to
// delegated permissions).
var consentAdminRoles = []string{globalAdminRoleID, privRoleAdminID, appAdminRoleID, cloudAppAdminID}

// scopeDescription is the consent text of a published scope.
func scopeDescription(sp *servicePrincipal, value string) string {
	for _, p := range objList(sp.Props["oauth2PermissionScopes"]) {
		if strings.EqualFold(str(p, "value"), value) {
			if d := str(p, "adminConsentDisplayName"); d != "" {
				return d + " (" + str(p, "value") + ")"
			}
		}
	}
	return value
}

// missingConsent returns the scopes of dr that userID has not consented to
// for clientID (neither tenant-wide nor for the user), and whether one of
// them needs an admin. Callers hold s.mu.
func (s *Server) missingConsent(clientID, userID string, dr *delegatedRequest) ([]string, bool) {
	granted, _ := s.t.grantedScopes(clientID, str(dr.sp.Props, "id"), userID)
	scopeType := map[string]string{}
	for _, p := range objList(dr.sp.Props["oauth2PermissionScopes"]) {
		scopeType[strings.ToLower(str(p, "value"))] = str(p, "type")
	}
	var missing []string
	admin := false
	for _, v := range dr.values {
		if v == ".default" || granted[strings.ToLower(v)] || contains(missing, v) {
			continue
		}
		missing = append(missing, v)
		admin = admin || scopeType[strings.ToLower(v)] == "Admin"
	}
	return missing, admin
}

// grantedScopes returns the delegated scopes granted to clientID on
// resourceID tenant-wide or for userID, as a set and in grant order.
func (t *tenant) grantedScopes(clientID, resourceID, userID string) (map[string]bool, []string) {
	set := map[string]bool{}
	var list []string
	clientSP := t.spByAppID(clientID)
	if clientSP == nil {
		return set, nil
	}
	for _, g := range sortedBySeq(t.Grants, func(g *permissionGrant) int64 { return g.Seq }) {
		if g.ClientID == str(clientSP.Props, "id") && g.ResourceID == resourceID && (g.ConsentType == "AllPrincipals" || g.PrincipalID == userID) {
			for _, sc := range strings.Fields(g.Scope) {
				if !set[strings.ToLower(sc)] {
					set[strings.ToLower(sc)] = true
					list = append(list, sc)
				}
			}
		}
	}
	return set, list
}

// respond sends params back to the application's redirect URI, in the
// response mode it asked for.
func (lr *loginReq) respond(req *authRequest, params url.Values) *page {
	if req.state != "" {
		params.Set("state", req.state)
	}
	if req.responseMode == "form_post" {
		var inputs strings.Builder
		for k, vs := range params {
			for _, v := range vs {
				fmt.Fprintf(&inputs, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", html.EscapeString(k), html.EscapeString(v))
			}
		}
		// Entra's form_post page: the browser submits it on load.
		return &page{status: http.StatusOK, title: "Working...", onload: "document.forms[0].submit()", body: fmt.Sprintf(
			"<form method=\"POST\" name=\"hiddenform\" action=\"%s\">\n%s<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\"></noscript>\n</form>",
			html.EscapeString(req.redirectURI), inputs.String())}
	}
	u, _ := url.Parse(req.redirectURI)
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return &page{location: u.String()}
}

// redirectError sends an OAuth error back to the application.
func (lr *loginReq) redirectError(req *authRequest, oauthErr string, code int, desc string) *page {
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	return lr.respond(req, url.Values{
		"error":             {oauthErr},
		"error_description": {fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", code, desc, lr.traceID, lr.corrID, ts)},
		"error_uri":         {"https://" + lr.host + "/error?code=" + fmt.Sprint(code)},
	})
}

// gcAuth drops expired authorize requests and codes. Callers hold s.mu.
func (s *Server) gcAuth() {
	for k, r := range s.authRequests {
		if time.Since(r.created) > authRequestLifetime {
			delete(s.authRequests, k)
		}
	}
	for k, c := range s.authCodes {
		if time.Since(c.created) > authCodeLifetime {
			delete(s.authCodes, k)
		}
	}
}

// authCodeToken redeems an authorization code (grant_type=authorization_code).
func (lr *loginReq) authCodeToken(v2 bool) (map[string]any, int, *stsError) {
	form := lr.r.PostForm
	code := form.Get("code")
	if code == "" {
		return nil, 0, serr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'code'.")
	}
	ac := lr.s.authCodes[code]
	switch {
	case ac == nil:
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	case ac.redeemed:
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case time.Since(ac.created) > authCodeLifetime:
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	req := ac.req
	if !strings.EqualFold(form.Get("client_id"), req.clientID) {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")
	}
	if form.Get("redirect_uri") != req.redirectURI {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 500112, "The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.",
			form.Get("redirect_uri"), req.redirectURI)
	}
	if req.challenge != "" && !pkceMatches(req.method, req.challenge, form.Get("code_verifier")) {
		return nil, 0, serr(http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	}
	authenticated := false
	if !req.public {
		app := lr.s.t.appByAppID(req.clientID)
		if app == nil {
			return nil, 0, lr.appNotFound(req.clientID)
		}
		if _, e := lr.authenticateClient(app); e != nil {
			return nil, 0, e
		}
		authenticated = true
	}
	// The code is spent whatever happens next.
	ac.redeemed = true
	scopes := req.scopes
	if s, e := lr.requestedScopes(v2); e == nil {
		scopes = s
	}
	lr.clientAuthenticated = req.public || authenticated
	body, status, e := lr.userToken(v2, req.clientID, req.userID, scopes, req.rawScope+" "+form.Get("scope"), false)
	if e == nil {
		lr.recordUserSignIn(req.clientID, req.userID)
	}
	return body, status, e
}

// pkceMatches checks a code_verifier against the code_challenge (RFC 7636).
func pkceMatches(method, challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
