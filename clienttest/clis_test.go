//go:build clients

package clienttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// decodeJSON decodes a command's stdout into v, failing the test with the
// command's output otherwise.
func decodeJSON(t *testing.T, what string, r cmdResult, v any) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %s", what, r)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", what, err, r)
	}
}

// createApp registers an application through the SDK as the bootstrap
// admin (for the CLI steps that need an existing app) and returns its appId.
func createApp(t *testing.T, s *sandbox.Server, name string) string {
	t.Helper()
	info := s.Tenant()
	admin := newSDKAdapter(t, s, info.ClientID, info.ClientSecret, &wireLog{})
	app := models.NewApplication()
	app.SetDisplayName(&name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := applications.NewApplicationsRequestBuilderInternal(map[string]string{}, admin).Post(ctx, app, nil)
	if err != nil {
		t.Fatalf("create application %q: %s", name, describe(err))
	}
	return deref(created.GetAppId())
}

// TestNetnsM365CLI drives the CLI for Microsoft 365 (@pnp/cli-microsoft365)
// against login.microsoftonline.com and graph.microsoft.com: secret and
// certificate sign-in, reads, and the consent steps of an app setup.
func TestNetnsM365CLI(t *testing.T) {
	requireNetns(t)
	requireNodeModule(t, "@pnp/cli-microsoft365")
	s := startOn443(t)
	info := s.Tenant()
	m365 := filepath.Join(moduleDir(t), "node_modules", ".bin", "m365")
	env := []string{
		"HOME=" + t.TempDir(), // m365 keeps its connection and config under $HOME
		"NODE_EXTRA_CA_CERTS=" + filepath.Join(s.StateDir(), "ca.pem"),
		"CLIMICROSOFT365_NOUPDATE=1",
	}
	m := func(args ...string) cmdResult { return run(t, env, m365, append(args, "--output", "json")...) }
	before := len(s.Requests())

	if r := m("cli", "config", "set", "--key", "disableTelemetry", "--value", "true"); r.err != nil {
		t.Fatalf("m365 cli config set: %s", r)
	}
	if r := m("login", "--authType", "secret", "--appId", info.ClientID, "--secret", info.ClientSecret, "--tenant", info.TenantID); r.err != nil {
		t.Fatalf("m365 login --authType secret: %s", r)
	}
	var status map[string]any
	decodeJSON(t, "m365 status", m("status"), &status)
	if status["authType"] != "secret" || status["appId"] != info.ClientID || status["appTenant"] != info.TenantID ||
		status["connectedAs"] != "entra-link sandbox admin" {
		t.Errorf("m365 status: %v", status)
	}

	var orgs []map[string]any
	decodeJSON(t, "m365 entra organization list", m("entra", "organization", "list"), &orgs)
	if len(orgs) != 1 || orgs[0]["id"] != info.TenantID {
		t.Errorf("m365 entra organization list: %v", orgs)
	}
	var apps []map[string]any
	decodeJSON(t, "m365 entra app list", m("entra", "app", "list"), &apps)
	found := false
	for _, a := range apps {
		found = found || a["appId"] == info.ClientID
	}
	if !found {
		t.Errorf("m365 entra app list does not list the bootstrap app %s", info.ClientID)
	}

	// `entra app add` (and app set/remove/permission/role) address Graph as
	// /v1.0/myorganization/…, the tenant alias real Graph accepts.
	// With --grantAdminConsent it also creates the service principal and
	// consents: an app role assignment and a delegated grant.
	var added map[string]any
	decodeJSON(t, "m365 entra app add --grantAdminConsent --withSecret", m("entra", "app", "add", "--name", "m365 app", "--withSecret",
		"--apisApplication", "https://graph.microsoft.com/User.Read.All", "--apisDelegated", "https://graph.microsoft.com/User.Read",
		"--grantAdminConsent"), &added)
	addedID, _ := added["appId"].(string)
	if addedID == "" || len(fmt.Sprint(added["secrets"])) < 20 {
		t.Errorf("m365 entra app add: appId %q, secrets present %v", addedID, added["secrets"] != nil)
	}
	var addedSP []map[string]any
	decodeJSON(t, "m365 entra enterpriseapp list", m("entra", "enterpriseapp", "list", "--displayName", "m365 app"), &addedSP)
	if len(addedSP) != 1 || addedSP[0]["appId"] != addedID {
		t.Fatalf("--grantAdminConsent created no service principal for %s: %v", addedID, addedSP)
	}
	// (m365 entra approleassignment list asks for $expand=appRoleAssignments,
	// which the sandbox does not serve: the tenant's state tells instead.)
	st := sandboxState(t, s)
	var consented []string
	for _, a := range st.AppRoleAssignments {
		if a.PrincipalID == addedSP[0]["id"] {
			consented = append(consented, a.ResourceDisplayName+"/"+a.AppRole)
		}
	}
	if len(consented) != 1 || consented[0] != "Microsoft Graph/User.Read.All" {
		t.Errorf("--grantAdminConsent app role assignments: %v", consented)
	}
	var addedGrants []map[string]any
	decodeJSON(t, "m365 entra oauth2grant list (added app)", m("entra", "oauth2grant", "list", "--spObjectId", addedSP[0]["id"].(string)), &addedGrants)
	if len(addedGrants) != 1 || addedGrants[0]["scope"] != "User.Read" || addedGrants[0]["consentType"] != "AllPrincipals" {
		t.Errorf("--grantAdminConsent delegated grants: %v", addedGrants)
	}

	// The consent steps of a setup, on an app registered through the SDK.
	appID := createApp(t, s, "m365 target app")
	var sp map[string]any
	decodeJSON(t, "m365 entra enterpriseapp add", m("entra", "enterpriseapp", "add", "--id", appID), &sp)
	spID, _ := sp["id"].(string)
	if sp["appId"] != appID || spID == "" {
		t.Fatalf("m365 entra enterpriseapp add: %v", sp)
	}
	var graphSP map[string]any
	// By name: m365's --id is validated as an RFC 4122 UUID (zod), which
	// Graph's well-known appId 00000003-0000-0000-c000-000000000000 is not.
	decodeJSON(t, "m365 entra enterpriseapp get (Microsoft Graph)", m("entra", "enterpriseapp", "get", "--displayName", "Microsoft Graph"), &graphSP)
	graphSPID, _ := graphSP["id"].(string)
	if graphSP["displayName"] != "Microsoft Graph" || graphSPID == "" {
		t.Fatalf("m365 entra enterpriseapp get: displayName %v id %v", graphSP["displayName"], graphSP["id"])
	}
	var assignments []map[string]any
	decodeJSON(t, "m365 entra approleassignment add",
		m("entra", "approleassignment", "add", "--appId", appID, "--resource", "Microsoft Graph", "--scopes", "User.Read.All"), &assignments)
	userReadAll, _ := catalog.ResourceByAppID(catalog.GraphAppID).AppRole("User.Read.All")
	if len(assignments) != 1 || assignments[0]["appRoleId"] != userReadAll.ID || assignments[0]["resourceId"] != graphSPID {
		t.Errorf("m365 entra approleassignment add: %v", assignments)
	}
	if r := m("entra", "oauth2grant", "add", "--clientId", spID, "--resourceId", graphSPID, "--scope", "User.Read"); r.err != nil {
		t.Errorf("m365 entra oauth2grant add: %s", r)
	}
	var grants []map[string]any
	decodeJSON(t, "m365 entra oauth2grant list", m("entra", "oauth2grant", "list", "--spObjectId", spID), &grants)
	if len(grants) != 1 || grants[0]["scope"] != "User.Read" || grants[0]["consentType"] != "AllPrincipals" {
		t.Errorf("m365 entra oauth2grant list: %v", grants)
	}
	var ra map[string]any
	decodeJSON(t, "m365 entra roleassignment add",
		m("entra", "roleassignment", "add", "--roleDefinitionName", "Exchange Administrator", "--principal", spID), &ra)
	exAdmin, _ := catalog.LookupRole("Exchange Administrator")
	if ra["principalId"] != spID || ra["roleDefinitionId"] != exAdmin.TemplateID || ra["directoryScopeId"] != "/" {
		t.Errorf("m365 entra roleassignment add: %v", ra)
	}

	// Certificate sign-in (PEM with key and certificate).
	cp := newCertPrincipal(t, s, "m365 cert", []string{"Application.Read.All"})
	if r := m("logout"); r.err != nil {
		t.Errorf("m365 logout: %s", r)
	}
	if r := m("login", "--authType", "certificate", "--appId", cp.ClientID, "--certificateFile", cp.Combined, "--tenant", info.TenantID); r.err != nil {
		t.Fatalf("m365 login --authType certificate: %s", r)
	}
	apps = nil
	decodeJSON(t, "m365 entra app list (certificate)", m("entra", "app", "list"), &apps)
	if len(apps) < 3 {
		t.Errorf("m365 entra app list with the certificate login: %d apps", len(apps))
	}
	if r := m("entra", "organization", "list"); r.err == nil || !strings.Contains(r.stderr+r.stdout, "Insufficient privileges") {
		t.Errorf("m365 entra organization list without Organization.Read.All: want Graph's 403 Insufficient privileges, got %s", r)
	}

	recs := requestsSince(s, before)
	checkRealHosts(t, recs)
	t.Logf("requests:%s", formatRequests(recs))
}

// azEnv isolates the Azure CLI's configuration in a temporary directory,
// trusts the sandbox CA and turns telemetry and surveys off.
func azEnv(t *testing.T, s *sandbox.Server) []string {
	dir := t.TempDir()
	return []string{
		"HOME=" + dir,
		"AZURE_CONFIG_DIR=" + filepath.Join(dir, ".azure"),
		"REQUESTS_CA_BUNDLE=" + filepath.Join(s.StateDir(), "ca.pem"),
		"AZURE_CORE_COLLECT_TELEMETRY=false",
		"AZURE_CORE_SURVEY_MESSAGE=false",
		"AZURE_CORE_NO_COLOR=true",
	}
}

// azVersion returns the installed Azure CLI's version, or "" if az is
// missing.
func azVersion(t *testing.T) (string, []int) {
	t.Helper()
	if _, err := exec.LookPath("az"); err != nil {
		return "", nil
	}
	out, err := exec.Command("az", "version", "--output", "json").Output()
	if err != nil {
		return "", nil
	}
	var v map[string]any
	if json.Unmarshal(out, &v) != nil {
		return "", nil
	}
	s, _ := v["azure-cli"].(string)
	var parts []int
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(p)
		parts = append(parts, n)
	}
	return s, parts
}

// requireAzureCLI skips (or, in CI, fails) unless an Azure CLI with
// Microsoft Graph support (2.37+) is installed.
func requireAzureCLI(t *testing.T) string {
	t.Helper()
	version, v := azVersion(t)
	if version == "" {
		missing(t, "the Azure CLI (Debian azure-cli) is not installed")
	}
	if len(v) < 2 || v[0] < 2 || (v[0] == 2 && v[1] < 37) {
		missing(t, "Azure CLI "+version+" predates Microsoft Graph for az ad (2.37)")
	}
	return version
}

// azLogin runs `az login --service-principal --allow-no-subscriptions` as
// the bootstrap admin and checks that it went through Azure Resource
// Manager: a token for https://management.core.windows.net/ and GET
// /subscriptions on management.azure.com (endpoints.md §14).
func azLogin(t *testing.T, s *sandbox.Server, env []string) {
	t.Helper()
	info := s.Tenant()
	before := len(s.Requests())
	r := run(t, env, "az", "login", "--service-principal", "--username", info.ClientID, "--password", info.ClientSecret,
		"--tenant", info.TenantID, "--allow-no-subscriptions", "--output", "json")
	if r.err != nil {
		t.Fatalf("az login --service-principal --allow-no-subscriptions: %s", r)
	}
	var accounts []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &accounts); err != nil || len(accounts) != 1 {
		t.Fatalf("az login printed %q (%v), want one account", r.stdout, err)
	}
	a := accounts[0]
	user, _ := a["user"].(map[string]any)
	if a["tenantId"] != info.TenantID || a["id"] != info.TenantID || user["type"] != "servicePrincipal" || user["name"] != info.ClientID {
		t.Errorf("az login recorded %v, want a tenant-level service principal account for %s", a, info.TenantID)
	}
	recs := requestsSince(s, before)
	if !sawRequest(recs, "GET", "/subscriptions?api-version=", 200) {
		t.Errorf("az login did not list subscriptions at Azure Resource Manager:%s", formatRequests(recs))
	}
	for _, rec := range recs {
		if strings.HasPrefix(rec.Path, "/subscriptions") && rec.Host != "management.azure.com" {
			t.Errorf("az listed subscriptions at %s, want management.azure.com", rec.Host)
		}
	}
}

// TestNetnsAzureCLI drives the Azure CLI against login.microsoftonline.com,
// management.azure.com and graph.microsoft.com: az login as a service
// principal (no hand-written profile), then the app setup commands of
// `az ad` (Microsoft Graph since 2.37) — app and service principal
// creation, secrets reset with --append, required permissions, a delegated
// grant, an app role assignment through az rest, the duplicates Graph
// refuses — and deletion.
func TestNetnsAzureCLI(t *testing.T) {
	requireNetns(t)
	version := requireAzureCLI(t)
	s := startOn443(t)
	info := s.Tenant()
	env := azEnv(t, s)
	az := func(args ...string) cmdResult { return run(t, env, "az", append(args, "--output", "json")...) }
	before := len(s.Requests())
	azLogin(t, s, env)

	var account map[string]any
	decodeJSON(t, "az account show", az("account", "show"), &account)
	if account["tenantId"] != info.TenantID || account["name"] != "N/A(tenant level account)" {
		t.Fatalf("az account show: %v", account)
	}
	var tok map[string]any
	decodeJSON(t, "az account get-access-token", az("account", "get-access-token", "--resource", "https://graph.microsoft.com"), &tok)
	if at, _ := tok["accessToken"].(string); at == "" || tok["tenant"] != info.TenantID {
		t.Errorf("az account get-access-token: tenant %v, token present %v", tok["tenant"], at != "")
	}
	var apps []map[string]any
	decodeJSON(t, "az ad app list", az("ad", "app", "list"), &apps)
	if len(apps) == 0 || apps[0]["appId"] != info.ClientID {
		t.Errorf("az ad app list: %d apps, want the bootstrap app first", len(apps))
	}

	var app map[string]any
	decodeJSON(t, "az ad app create", az("ad", "app", "create", "--display-name", "az cli app", "--sign-in-audience", "AzureADMyOrg"), &app)
	appID, _ := app["appId"].(string)
	if appID == "" || app["displayName"] != "az cli app" || app["signInAudience"] != "AzureADMyOrg" {
		t.Fatalf("az ad app create: %v", app)
	}
	var sp map[string]any
	decodeJSON(t, "az ad sp create", az("ad", "sp", "create", "--id", appID), &sp)
	spID, _ := sp["id"].(string)
	if sp["appId"] != appID || sp["servicePrincipalType"] != "Application" || spID == "" {
		t.Errorf("az ad sp create: appId %v type %v id %v", sp["appId"], sp["servicePrincipalType"], sp["id"])
	}
	if r := az("ad", "sp", "create", "--id", appID); r.err == nil || !strings.Contains(r.stderr, "already in use") {
		t.Errorf("a second az ad sp create: want Graph's 409 (name already in use), got %s", r)
	}

	// Two secrets with --append: both sign in.
	var secrets []string
	for i := 0; i < 2; i++ {
		var cred map[string]any
		decodeJSON(t, "az ad app credential reset --append", az("ad", "app", "credential", "reset", "--id", appID, "--append",
			"--display-name", fmt.Sprintf("az secret %d", i), "--years", "1"), &cred)
		secret, _ := cred["password"].(string)
		if cred["appId"] != appID || cred["tenant"] != info.TenantID || len(secret) < 30 {
			t.Fatalf("az ad app credential reset --append: appId %v tenant %v secret length %d", cred["appId"], cred["tenant"], len(secret))
		}
		secrets = append(secrets, secret)
	}
	var shown map[string]any
	decodeJSON(t, "az ad app show", az("ad", "app", "show", "--id", appID), &shown)
	if n := len(shown["passwordCredentials"].([]any)); n != 2 {
		t.Errorf("after two resets with --append the app has %d secrets, want 2", n)
	}
	for i, secret := range secrets {
		c, err := azidentity.NewClientSecretCredential(info.TenantID, appID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{Cloud: azcloud.AzurePublic, Transport: sandboxtest.Client(s), Retry: policy.RetryOptions{MaxRetries: -1}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
			t.Errorf("secret %d from az ad app credential reset --append does not sign in: %v", i, err)
		}
	}

	// Microsoft Graph's service principal as az sees it: the role ids come
	// from the tenant, not from entra-link's catalogue.
	var graphSP map[string]any
	decodeJSON(t, "az ad sp show (Microsoft Graph)", az("ad", "sp", "show", "--id", graphAppID), &graphSP)
	graphSPID, _ := graphSP["id"].(string)
	roleID := ""
	for _, r := range graphSP["appRoles"].([]any) {
		if r.(map[string]any)["value"] == "User.Read.All" {
			roleID, _ = r.(map[string]any)["id"].(string)
		}
	}
	if graphSPID == "" || roleID == "" {
		t.Fatalf("az ad sp show %s: id %q, User.Read.All role %q", graphAppID, graphSPID, roleID)
	}
	if r := az("ad", "app", "permission", "add", "--id", appID, "--api", graphAppID, "--api-permissions", roleID+"=Role"); r.err != nil {
		t.Errorf("az ad app permission add: %s", r)
	}
	var perms []map[string]any
	decodeJSON(t, "az ad app permission list", az("ad", "app", "permission", "list", "--id", appID), &perms)
	if len(perms) != 1 || perms[0]["resourceAppId"] != graphAppID {
		t.Errorf("az ad app permission list: %v", perms)
	}
	var grant map[string]any
	decodeJSON(t, "az ad app permission grant", az("ad", "app", "permission", "grant", "--id", appID, "--api", graphAppID, "--scope", "User.Read"), &grant)
	if grant["clientId"] != spID || grant["consentType"] != "AllPrincipals" || grant["scope"] != "User.Read" {
		t.Errorf("az ad app permission grant: %v", grant)
	}
	// Admin consent for the application permission, the way scripts do it.
	assign := fmt.Sprintf(`{"principalId":%q,"resourceId":%q,"appRoleId":%q}`, spID, graphSPID, roleID)
	uri := "https://graph.microsoft.com/v1.0/servicePrincipals/" + graphSPID + "/appRoleAssignedTo"
	var assignment map[string]any
	decodeJSON(t, "az rest POST appRoleAssignedTo", az("rest", "--method", "POST", "--uri", uri, "--body", assign), &assignment)
	if assignment["principalId"] != spID || assignment["appRoleId"] != roleID || assignment["principalType"] != "ServicePrincipal" {
		t.Errorf("az rest app role assignment: %v", assignment)
	}
	if r := az("rest", "--method", "POST", "--uri", uri, "--body", assign); r.err == nil ||
		!strings.Contains(r.stderr, "Permission being assigned already exists on the object") {
		t.Errorf("a duplicate app role assignment: want Graph's 400 (endpoints.md §8.5), got %s", r)
	}
	// An app role id the resource does not publish: Graph's 400, at once.
	bogus := fmt.Sprintf(`{"principalId":%q,"resourceId":%q,"appRoleId":"00000000-1111-2222-3333-444444444444"}`, spID, graphSPID)
	if r := az("rest", "--method", "POST", "--uri", uri, "--body", bogus); r.err == nil ||
		!strings.Contains(r.stderr, "Permission being assigned was not found on application") {
		t.Errorf("an unknown app role id: want Graph's 400, got %s", r)
	}
	// admin-consent calls the Azure portal's internal API (a token for
	// resource 74658136-14ec-4630-ad9b-26e160ff0fc6), not Graph.
	if r := az("ad", "app", "permission", "admin-consent", "--id", appID); r.err == nil {
		t.Errorf("az ad app permission admin-consent succeeded, but the sandbox has no portal API")
	} else if !strings.Contains(r.stderr, "AADSTS500011") {
		t.Errorf("az ad app permission admin-consent failed for another reason than the portal API: %s", r)
	}

	if r := az("ad", "app", "delete", "--id", appID); r.err != nil {
		t.Errorf("az ad app delete: %s", r)
	}
	if r := az("ad", "app", "show", "--id", appID); r.err == nil {
		t.Errorf("az ad app show after delete succeeded: %s", r.stdout)
	}

	recs := requestsSince(s, before)
	checkRealHosts(t, recs)
	t.Logf("Azure CLI %s requests:%s", version, formatRequests(recs))
}

// TestNetnsEntraLinkAzureCLI runs the entra-link binary with --auth
// azure-cli after az login: azidentity's AzureCLICredential shells out to
// the real `az account get-access-token`, and setup then talks to
// graph.microsoft.com, all inside the namespace.
func TestNetnsEntraLinkAzureCLI(t *testing.T) {
	requireNetns(t)
	requireAzureCLI(t)
	bin := entraLinkBinary(t)
	s := startOn443(t)
	info := s.Tenant()
	env := azEnv(t, s)
	azLogin(t, s, env)
	before := len(s.Requests())
	out := filepath.Join(t.TempDir(), "result.json")
	r := run(t, append(env, "SSL_CERT_FILE="+filepath.Join(s.StateDir(), "ca.pem")), bin, "setup", "--auth", "azure-cli",
		"--tenant", info.TenantID, "--profile", "entitle", "--yes", "--output", "json", "--output-file", out)
	if r.err != nil {
		t.Fatalf("entra-link setup --auth azure-cli: %s", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("setup result is not JSON: %v", err)
	}
	if res["tenantId"] != info.TenantID || res["clientId"] == "" || res["servicePrincipalId"] == "" {
		t.Errorf("setup result: tenant %v client %v sp %v", res["tenantId"], res["clientId"], res["servicePrincipalId"])
	}
	recs := requestsSince(s, before)
	checkRealHosts(t, recs)
	// The Graph token came from az (its client credentials at the token
	// endpoint, for the Graph resource), not from entra-link's own sign-in.
	if !sawRequest(recs, "POST", "/"+info.TenantID+"/oauth2/v2.0/token", 200) || !sawRequest(recs, "PATCH", "/v1.0/applications(uniqueName=", 201) {
		t.Errorf("setup through az did not sign in and create the app:%s", formatRequests(recs))
	}
	t.Logf("requests:%s", formatRequests(recs))
}
