package sandbox_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// docCreateApplicationResponse is the response of application-post-applications
// as documented (endpoints.md §1.1), minus the per-object values.
const docCreateApplicationResponse = `{
    "deletedDateTime": null,
    "isFallbackPublicClient": null,
    "applicationTemplateId": null,
    "identifierUris": [],
    "displayName": "Display name",
    "isDeviceOnlyAuthSupported": null,
    "groupMembershipClaims": null,
    "optionalClaims": null,
    "addIns": [],
    "signInAudience": "AzureADandPersonalMicrosoftAccount",
    "tags": [],
    "tokenEncryptionKeyId": null,
    "api": {"requestedAccessTokenVersion": 2, "acceptMappedClaims": null, "knownClientApplications": [], "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
    "appRoles": [],
    "publicClient": {"redirectUris": []},
    "info": {"termsOfServiceUrl": null, "supportUrl": null, "privacyStatementUrl": null, "marketingUrl": null, "logoUrl": null},
    "keyCredentials": [],
    "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
    "passwordCredentials": [],
    "requiredResourceAccess": [],
    "web": {"redirectUris": [], "homePageUrl": null, "logoutUrl": null, "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}}
}`

// subsetEqual reports where want (a documented example) is not contained in got.
func subsetEqual(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, documented object", path, got)
			return
		}
		for k, v := range w {
			gv, present := g[k]
			if !present {
				t.Errorf("%s.%s: missing (documented %v)", path, k, v)
				continue
			}
			subsetEqual(t, path+"."+k, v, gv)
		}
	default:
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if string(wb) != string(gb) {
			t.Errorf("%s: got %s, documented %s", path, gb, wb)
		}
	}
}

func TestCreateApplicationAsDocumented(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	r := admin.do("POST", "/applications", map[string]any{"displayName": "Display name"})
	app := r.must(t, http.StatusCreated)
	validateEntity(t, "application", app)
	var doc map[string]any
	if err := json.Unmarshal([]byte(docCreateApplicationResponse), &doc); err != nil {
		t.Fatal(err)
	}
	subsetEqual(t, "application", doc, app)
	if !strings.HasSuffix(app["@odata.context"].(string), "/v1.0/$metadata#applications/$entity") {
		t.Errorf("@odata.context %v", app["@odata.context"])
	}
	for _, k := range []string{"id", "appId"} {
		if !guidPattern.MatchString(app[k].(string)) {
			t.Errorf("%s %v is not a GUID", k, app[k])
		}
	}
	if app["publisherDomain"] != s.Tenant().TenantDomain {
		t.Errorf("publisherDomain %v", app["publisherDomain"])
	}
	if r.header.Get("request-id") == "" || r.header.Get("client-request-id") == "" {
		t.Errorf("request-id headers missing: %v", r.header)
	}

	// The create-with-configuration body entra-link sends, gzip-compressed
	// as kiota does, with @odata.type.
	body, _ := json.Marshal(map[string]any{
		"@odata.type":    "#microsoft.graph.application",
		"displayName":    "entra-link demo",
		"signInAudience": "AzureADMyOrg",
		"tags":           []string{"entra-link", "entra-link:profile:relution"},
		"web": map[string]any{
			"redirectUris":          []string{"https://localhost:8400/callback"},
			"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": true, "enableAccessTokenIssuance": false},
		},
		"requiredResourceAccess": []any{map[string]any{
			"resourceAppId":  "00000003-0000-0000-c000-000000000000",
			"resourceAccess": []any{map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}, map[string]any{"id": "df021288-bdef-4463-88db-98f22de89214", "type": "Role"}},
		}},
	})
	r = admin.do("POST", "/applications", gz(t, body), "Content-Encoding", "gzip")
	app = r.must(t, http.StatusCreated)
	validateEntity(t, "application", app)
	web := app["web"].(map[string]any)
	if strs(web["redirectUris"])[0] != "https://localhost:8400/callback" || web["implicitGrantSettings"].(map[string]any)["enableIdTokenIssuance"] != true {
		t.Errorf("web not applied: %v", web)
	}
	if app["signInAudience"] != "AzureADMyOrg" || len(strs(app["tags"])) != 2 {
		t.Errorf("create body not applied: %v", app)
	}
	if rra := app["requiredResourceAccess"].([]any); len(rra) != 1 {
		t.Errorf("requiredResourceAccess %v", rra)
	}
}

func TestGetApplicationByAppIDWithSelect(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "PostmanWeb", "requiredResourceAccess": []any{map[string]any{
		"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": []any{map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}},
	}}}).must(t, 201)
	appID := app["appId"].(string)
	got := admin.do("GET", "/applications(appId='"+appID+"')?$select=id,appId,displayName,requiredResourceAccess", nil).must(t, 200)
	validateEntity(t, "application", got)
	if !strings.HasSuffix(got["@odata.context"].(string), "#applications(id,appId,displayName,requiredResourceAccess)/$entity") {
		t.Errorf("@odata.context %v", got["@odata.context"])
	}
	if len(got) != 5 {
		t.Errorf("$select returned other properties: %v", got)
	}
	full := admin.do("GET", "/applications/"+app["id"].(string), nil).must(t, 200)
	validateEntity(t, "application", full)
	if full["appId"] != appID {
		t.Errorf("GET by id: %v", full)
	}
	admin.do("GET", "/applications(appId='00000000-1111-2222-3333-444444444444')", nil).wantError(t, 404, "Request_ResourceNotFound",
		"Resource '00000000-1111-2222-3333-444444444444' does not exist or one of its queried reference-property objects are not present.")
	admin.do("GET", "/applications/00000000-1111-2222-3333-444444444444", nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
	admin.do("GET", "/applications/"+app["id"].(string)+"?$select=nosuchproperty", nil).wantError(t, 400, "Request_UnsupportedQuery", "nosuchproperty")
}

func TestListApplicationsFilterAndPaging(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	for _, n := range []string{"alpha", "beta", "gamma", "delta", "epsilon"} {
		admin.do("POST", "/applications", map[string]any{"displayName": "paged " + n, "tags": []string{"entra-link", "entra-link:profile:" + n}}).must(t, 201)
	}
	one := admin.do("GET", "/applications?$filter="+url.QueryEscape("displayName eq 'paged beta'")+"&$select=id,appId,displayName", nil).must(t, 200)
	items := validateCollection(t, "application", one)
	if len(items) != 1 || items[0]["displayName"] != "paged beta" {
		t.Fatalf("displayName filter: %v", items)
	}
	byAppID := validateCollection(t, "application", admin.do("GET", "/applications?$filter="+url.QueryEscape("appId eq '"+items[0]["appId"].(string)+"'"), nil).must(t, 200))
	if len(byAppID) != 1 {
		t.Errorf("appId filter: %v", byAppID)
	}
	none := validateCollection(t, "application", admin.do("GET", "/applications?$filter="+url.QueryEscape("displayName eq 'nothing like this'"), nil).must(t, 200))
	if len(none) != 0 {
		t.Errorf("no-match filter returned %v", none)
	}
	tagged := validateCollection(t, "application", admin.do("GET", "/applications?$filter="+url.QueryEscape("tags/any(t:t eq 'entra-link:profile:gamma')"), nil).must(t, 200))
	if len(tagged) != 1 || tagged[0]["displayName"] != "paged gamma" {
		t.Errorf("tags/any filter: %v", tagged)
	}
	and := validateCollection(t, "application", admin.do("GET", "/applications?$filter="+url.QueryEscape("tags/any(t:t eq 'entra-link') and startswith(displayName,'paged d')"), nil).must(t, 200))
	if len(and) != 1 || and[0]["displayName"] != "paged delta" {
		t.Errorf("and + startswith: %v", and)
	}
	// Documented example 3: startswith + $count + $top + $orderby with ConsistencyLevel.
	counted := admin.do("GET", "/applications?$filter="+url.QueryEscape("startswith(displayName, 'paged')")+"&$count=true&$top=1&$orderby=displayName", nil, "ConsistencyLevel", "eventual").must(t, 200)
	if counted["@odata.count"] != float64(5) {
		t.Errorf("@odata.count %v", counted["@odata.count"])
	}
	if v := validateCollection(t, "application", counted); len(v) != 1 || v[0]["displayName"] != "paged alpha" {
		t.Errorf("ordered top 1: %v", v)
	}
	admin.do("GET", "/applications?$count=true", nil).wantError(t, 400, "Request_BadRequest", "$count is not currently supported.")
	admin.do("GET", "/applications?$filter="+url.QueryEscape("displayName ne 'x'"), nil).wantError(t, 400, "Request_UnsupportedQuery", "Operator 'ne' is not supported")
	admin.do("GET", "/applications?$filter="+url.QueryEscape("notes eq 'x'"), nil).wantError(t, 400, "Request_UnsupportedQuery",
		"Unsupported or invalid query filter clause specified for property 'notes' of resource 'application'.")
	admin.do("GET", "/applications?$filter="+url.QueryEscape("displayName eq "), nil).wantError(t, 400, "BadRequest", "Invalid filter clause")
	admin.do("GET", "/applications?$top=1000", nil).wantError(t, 400, "Request_BadRequest", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.")
	admin.do("GET", "/applications?$frobnicate=1", nil).wantError(t, 400, "Request_BadRequest", "Unrecognized query argument specified: 'frobnicate'.")

	// Paging: follow @odata.nextLink (an absolute URL) to the end.
	filter := "&$filter=" + url.QueryEscape("tags/any(t:t eq 'entra-link')")
	page := admin.do("GET", "/applications?$top=2"+filter, nil).must(t, 200)
	var names []string
	for pages := 1; ; pages++ {
		for _, it := range validateCollection(t, "application", page) {
			names = append(names, it["displayName"].(string))
		}
		next, _ := page["@odata.nextLink"].(string)
		if next == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		if !strings.HasPrefix(next, s.URL()+"/v1.0/applications?") {
			t.Fatalf("nextLink %q", next)
		}
		page = admin.do("GET", strings.TrimPrefix(next, admin.base), nil).must(t, 200)
	}
	if len(names) != 5 || names[0] != "paged alpha" || names[4] != "paged epsilon" {
		t.Errorf("paged listing: %v", names)
	}
	count := admin.do("GET", "/applications/$count", nil, "ConsistencyLevel", "eventual")
	if count.status != 200 || strings.TrimSpace(string(count.raw)) != "6" || !strings.HasPrefix(count.header.Get("Content-Type"), "text/plain") {
		t.Errorf("/applications/$count: %d %q %s", count.status, count.raw, count.header.Get("Content-Type"))
	}
}

func TestUpdateApplication(t *testing.T) {
	s := newSandbox(t, sandboxtest.VerifiedDomains("relution.example.org"))
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "to update", "signInAudience": "AzureADMyOrg",
		"web": map[string]any{"redirectUris": []string{"https://app.contoso.com/a"}, "homePageUrl": "https://app.contoso.com"}}).must(t, 201)
	id, appID := app["id"].(string), app["appId"].(string)
	path := "/applications/" + id

	admin.do("PATCH", path, map[string]any{"displayName": "New display name"}).must(t, 204)
	// Documented appRoles PATCH.
	admin.do("PATCH", path, map[string]any{"appRoles": []any{map[string]any{
		"allowedMemberTypes": []string{"User", "Application"}, "description": "Survey.Read", "displayName": "Survey.Read",
		"id": "ebb7c86c-fb47-4e3f-8191-420ff1b9de4a", "isEnabled": false, "origin": "Application", "value": "Survey.Read",
	}}}).must(t, 204)
	// Complex properties merge; collections are replaced.
	admin.do("PATCH", "/applications(appId='"+appID+"')", map[string]any{
		"identifierUris": []string{"api://" + appID, "https://relution.example.org"},
		"web":            map[string]any{"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": true}},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": []any{
			map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}, map[string]any{"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"}}}},
	}).must(t, 204)
	got := admin.do("GET", path, nil).must(t, 200)
	validateEntity(t, "application", got)
	web := got["web"].(map[string]any)
	if got["displayName"] != "New display name" || len(got["appRoles"].([]any)) != 1 ||
		strs(web["redirectUris"])[0] != "https://app.contoso.com/a" || web["homePageUrl"] != "https://app.contoso.com" ||
		web["implicitGrantSettings"].(map[string]any)["enableIdTokenIssuance"] != true || len(strs(got["identifierUris"])) != 2 {
		t.Errorf("PATCH results: %v", got)
	}
	admin.do("PATCH", path, map[string]any{"identifierUris": []string{"api://" + appID}}).must(t, 204)
	if uris := strs(admin.do("GET", path+"?$select=identifierUris", nil).must(t, 200)["identifierUris"]); len(uris) != 1 {
		t.Errorf("identifierUris not replaced wholesale: %v", uris)
	}

	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"unverified identifier host", map[string]any{"identifierUris": []string{"https://app.fabrikam.com"}}, 400, "HostNameNotOnVerifiedDomain",
			"Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://app.fabrikam.com'"},
		{"http redirect", map[string]any{"web": map[string]any{"redirectUris": []string{"http://app.contoso.com/cb"}}}, 400, "Request_BadRequest", "redirectUris"},
		{"password credentials", map[string]any{"passwordCredentials": []any{map[string]any{"displayName": "x"}}}, 400, "Request_BadRequest", "passwordCredentials"},
		{"unknown property", map[string]any{"displayNme": "x"}, 400, "Request_BadRequest", "Property 'displayNme' does not exist"},
		{"unknown nested property", map[string]any{"web": map[string]any{"redirectUri": "x"}}, 400, "Request_BadRequest",
			"The property 'redirectUri' does not exist on type 'microsoft.graph.webApplication'"},
		{"wrong type", map[string]any{"displayName": 5}, 400, "Request_BadRequest", "Cannot convert a primitive value to the expected type 'Edm.String'"},
		{"scalar for collection", map[string]any{"tags": "entra-link"}, 400, "Request_BadRequest", "A 'StartArray' node was expected"},
		{"null collection", map[string]any{"tags": nil}, 400, "Request_BadRequest", "does not allow null values"},
		{"bad boolean", map[string]any{"isFallbackPublicClient": "true"}, 400, "Request_BadRequest", "Cannot convert the literal 'true' to the expected type 'Edm.Boolean'"},
		{"bad resource access type", map[string]any{"requiredResourceAccess": []any{map[string]any{"resourceAppId": "00000003-0000-0000-c000-000000000000",
			"resourceAccess": []any{map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Delegated"}}}}}, 400, "Request_BadRequest",
			"Invalid value specified for property 'type' of resource 'ResourceAccess'."},
		{"too many permissions", map[string]any{"requiredResourceAccess": manyPermissions(401)}, 400, "Request_BadRequest", "400"},
		{"long tag", map[string]any{"tags": []string{strings.Repeat("t", 257)}}, 400, "Request_BadRequest", "tags"},
		{"long display name", map[string]any{"displayName": strings.Repeat("n", 257)}, 400, "Request_BadRequest", "displayName"},
		{"read-only appId", map[string]any{"appId": "x"}, 400, "Request_BadRequest", "read-only"},
		{"invalid certificate", map[string]any{"keyCredentials": []any{map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}}}, 400, "Request_BadRequest", "key"},
		{"bad key type", map[string]any{"keyCredentials": []any{map[string]any{"type": "Password", "usage": "Verify", "key": "bm90IGEgY2VydA=="}}}, 400, "Request_BadRequest", "'type' of resource 'KeyCredential'"},
		{"personal accounts need v2 tokens", map[string]any{"signInAudience": "AzureADandPersonalMicrosoftAccount", "api": map[string]any{"requestedAccessTokenVersion": 1}}, 400, "Request_BadRequest", "api.requestedAccessTokenVersion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			admin.do("PATCH", path, tc.body).wantError(t, tc.status, tc.code, tc.msg)
		})
	}
	// A rejected PATCH changed nothing.
	if after := admin.do("GET", path, nil).must(t, 200); after["displayName"] != "New display name" {
		t.Errorf("failed PATCH changed the app: %v", after["displayName"])
	}
	admin.do("PATCH", "/applications/00000000-1111-2222-3333-444444444444", map[string]any{"displayName": "x"}).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
	admin.do("PATCH", path, []byte("{not json")).wantError(t, 400, "BadRequest", "Unable to read JSON request payload")
	admin.do("PUT", path, map[string]any{"displayName": "x"}).wantError(t, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	admin.do("GET", "/frobnicators", nil).wantError(t, 400, "BadRequest", "Resource not found for the segment 'frobnicators'.")
	admin.do("POST", "/applications", map[string]any{"signInAudience": "AzureADMyOrg"}).wantError(t, 400, "Request_BadRequest", "displayName")
	admin.do("POST", "/applications", map[string]any{"displayName": "x", "passwordCredentials": []any{map[string]any{"displayName": "s"}}}).wantError(t, 400, "Request_BadRequest", "passwordCredentials")
}

func manyPermissions(n int) []any {
	var access []any
	for i := 0; i < n; i++ {
		access = append(access, map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"})
	}
	return []any{map[string]any{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": access}}
}

func TestPasswordCredentials(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	clientID, _ := createPrincipal(t, s, "secret rotation", []string{"Organization.Read.All"}, nil)
	app := admin.do("GET", "/applications(appId='"+clientID+"')", nil).must(t, 200)
	id := app["id"].(string)
	before := time.Now().UTC()
	cred := admin.do("POST", "/applications/"+id+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "Password friendly name"}}).must(t, 200)
	if !strings.HasSuffix(cred["@odata.context"].(string), "#microsoft.graph.passwordCredential") {
		t.Errorf("@odata.context %v", cred["@odata.context"])
	}
	delete(cred, "@odata.context")
	validateCheck(t, "passwordCredential", cred)
	secret, _ := cred["secretText"].(string)
	if len(secret) < 16 || len(secret) > 64 || cred["hint"] != secret[:3] || cred["displayName"] != "Password friendly name" || cred["customKeyIdentifier"] != nil {
		t.Errorf("addPassword response: %v", cred)
	}
	start, _ := time.Parse(time.RFC3339Nano, cred["startDateTime"].(string))
	end, _ := time.Parse(time.RFC3339Nano, cred["endDateTime"].(string))
	if start.Before(before.Add(-time.Second)) || end.Sub(start) < 2*365*24*time.Hour || end.Sub(start) > 2*366*24*time.Hour {
		t.Errorf("default lifetime: %v → %v", start, end)
	}
	got := admin.do("GET", "/applications/"+id, nil).must(t, 200)
	validateEntity(t, "application", got)
	var found bool
	for _, c := range got["passwordCredentials"].([]any) {
		m := c.(map[string]any)
		if m["keyId"] == cred["keyId"] {
			found = true
			if m["secretText"] != nil || m["hint"] != secret[:3] {
				t.Errorf("secret readable after creation: %v", m)
			}
		}
	}
	if !found || strings.Contains(string(admin.do("GET", "/applications/"+id, nil).raw), secret) {
		t.Errorf("credential missing or secret exposed by GET")
	}
	appClient(t, s, clientID, secret) // the new secret works

	admin.do("POST", "/applications/"+id+"/removePassword", map[string]any{"keyId": cred["keyId"]}).must(t, 204)
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	status, body := c.tokenRequest(s.URL()+"/"+s.Tenant().TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {s.URL() + "/.default"}})
	stsError(t, status, body, 401, "invalid_client", 7000215)

	admin.do("POST", "/applications/"+id+"/removePassword", map[string]any{"keyId": cred["keyId"]}).wantError(t, 400, "Request_BadRequest", "keyId")
	admin.do("POST", "/applications/"+id+"/addPassword", map[string]any{"displayName": "x"}).wantError(t, 400, "BadRequest",
		"The parameter 'displayName' in the request payload is not a valid parameter for the operation 'addPassword'.")
	admin.do("POST", "/applications/"+id+"/addPassword", map[string]any{"passwordCredential": map[string]any{"secret": "x"}}).wantError(t, 400, "Request_BadRequest", "'secret' does not exist on type 'microsoft.graph.passwordCredential'")
	// The appId form works for actions too.
	admin.do("POST", "/applications(appId='"+clientID+"')/addPassword", nil).must(t, 200)
}

// validateCheck validates an object that is not a top-level response.
func validateCheck(t *testing.T, typ string, obj map[string]any) {
	t.Helper()
	for _, p := range checkEntity(loadValidatorTypes(t), typ, obj, typ) {
		t.Errorf("schema: %s", p)
	}
}

func TestKeyCredentialsAndProof(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "cert roller", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	id := app["id"].(string)
	now := time.Now()
	key1, cert1 := selfSignedCert(t, "first", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	key2, cert2 := selfSignedCert(t, "second", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	proofFor := func(k *rsa.PrivateKey, mod func(map[string]any)) string {
		c := map[string]any{"aud": "00000002-0000-0000-c000-000000000000", "iss": id, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return signJWT(t, k, "RS256", nil, c)
	}
	k1, k2 := key1, key2
	newKey := map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(cert2.Raw)}

	// Without a certificate addKey is impossible (application-addkey).
	admin.do("POST", "/applications/"+id+"/addKey", map[string]any{"keyCredential": newKey, "passwordCredential": nil, "proof": proofFor(k1, nil)}).
		wantError(t, 401, "Authentication_MissingOrMalformed", "Access Token missing or malformed.")
	// The first certificate goes in with PATCH.
	admin.do("PATCH", "/applications/"+id, map[string]any{"keyCredentials": []any{map[string]any{
		"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(cert1.Raw), "displayName": "CN=first"}}}).must(t, 204)
	got := admin.do("GET", "/applications/"+id, nil).must(t, 200)
	kcs := got["keyCredentials"].([]any)
	if len(kcs) != 1 || kcs[0].(map[string]any)["key"] != nil {
		t.Errorf("key must be null unless selected: %v", kcs)
	}
	sel := admin.do("GET", "/applications/"+id+"?$select=id,appId,keyCredentials", nil).must(t, 200)
	validateEntity(t, "application", sel)
	kc := sel["keyCredentials"].([]any)[0].(map[string]any)
	if kc["key"] != base64.StdEncoding.EncodeToString(cert1.Raw) || kc["customKeyIdentifier"] == nil || !guidPattern.MatchString(kc["keyId"].(string)) {
		t.Errorf("selected keyCredentials: %v", kc)
	}

	bad := []struct {
		name  string
		proof string
	}{
		{"wrong audience", proofFor(k1, func(m map[string]any) { m["aud"] = "00000003-0000-0000-c000-000000000000" })},
		{"wrong issuer", proofFor(k1, func(m map[string]any) { m["iss"] = got["appId"] })},
		{"too long-lived", proofFor(k1, func(m map[string]any) { m["exp"] = now.Add(20 * time.Minute).Unix() })},
		{"not signed by an app certificate", proofFor(k2, nil)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			admin.do("POST", "/applications/"+id+"/addKey", map[string]any{"keyCredential": newKey, "passwordCredential": nil, "proof": tc.proof}).
				wantError(t, 401, "Authentication_MissingOrMalformed", "Access Token missing or malformed.")
		})
	}
	added := admin.do("POST", "/applications/"+id+"/addKey", map[string]any{"keyCredential": newKey, "passwordCredential": nil, "proof": proofFor(k1, nil)}).must(t, 200)
	if !strings.HasSuffix(added["@odata.context"].(string), "#microsoft.graph.keyCredential") {
		t.Errorf("addKey context %v", added["@odata.context"])
	}
	delete(added, "@odata.context")
	validateCheck(t, "keyCredential", added)
	if added["displayName"] != "CN=second" || added["type"] != "AsymmetricX509Cert" {
		t.Errorf("addKey response: %v", added)
	}
	// removeKey of the first certificate, proven with the second.
	admin.do("POST", "/applications/"+id+"/removeKey", map[string]any{"keyId": kc["keyId"], "proof": proofFor(k2, nil)}).must(t, 204)
	left := admin.do("GET", "/applications/"+id, nil).must(t, 200)["keyCredentials"].([]any)
	if len(left) != 1 || left[0].(map[string]any)["keyId"] != added["keyId"] {
		t.Errorf("after removeKey: %v", left)
	}
}

// TestMyOrganizationAlias: /v1.0/myorganization/… is the same collection
// (the CLI for Microsoft 365 addresses applications this way).
func TestMyOrganizationAlias(t *testing.T) {
	s := newSandbox(t)
	c := adminClient(t, s)
	created := c.do("POST", "/myorganization/applications", map[string]any{"displayName": "via alias"}).must(t, 201)
	got := c.do("GET", "/applications/"+created["id"].(string), nil).must(t, 200)
	if got["displayName"] != "via alias" {
		t.Errorf("got %v", got["displayName"])
	}
	c.do("GET", "/myorganizationx/applications", nil).wantError(t, 400, "BadRequest", "")
}
