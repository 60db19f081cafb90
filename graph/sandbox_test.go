package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// These tests drive the real azidentity/MSAL stack and the graph client
// against the emulated tenant, reached through the real cloud host names.

const (
	graphAppID       = "00000003-0000-0000-c000-000000000000"
	directoryReaders = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
)

// scopeRecorder remembers which scopes the graph client asked tokens for.
type scopeRecorder struct {
	inner  azcore.TokenCredential
	mu     sync.Mutex
	scopes []string
}

func (r *scopeRecorder) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	r.mu.Lock()
	r.scopes = append(r.scopes, o.Scopes...)
	r.mu.Unlock()
	return r.inner.GetToken(ctx, o)
}

func (r *scopeRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.scopes...)
}

// connect signs in as the sandbox's bootstrap admin principal on the given
// cloud and returns a graph client for it.
func connect(t *testing.T, s *sandbox.Server, c cloud.Cloud, azc azcloud.Configuration, trace *bytes.Buffer) (*graph.Client, *scopeRecorder) {
	t.Helper()
	info := s.Tenant()
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Cloud: azc, Transport: sandboxtest.Client(s)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &scopeRecorder{inner: cred}
	o := graph.Options{Endpoint: c.GraphEndpoint, HTTPClient: sandboxtest.Client(s), RetryBaseDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second, RetryDeadline: 30 * time.Second}
	if trace != nil {
		o.Trace = trace
	}
	gc, err := graph.New(rec, o)
	if err != nil {
		t.Fatal(err)
	}
	return gc, rec
}

// setupFlow is what `entra-link setup` does for an app with one Graph
// application permission, one delegated permission and a directory role.
type flowResult struct {
	app    graph.Application
	sp     graph.ServicePrincipal
	secret graph.PasswordCredential
}

func setupFlow(t *testing.T, ctx context.Context, gc *graph.Client) flowResult {
	t.Helper()
	msGraph, err := gc.ServicePrincipalByAppID(ctx, graphAppID)
	if err != nil {
		t.Fatalf("Microsoft Graph service principal: %v", err)
	}
	roleID, scopeID := "", ""
	for _, r := range msGraph.AppRoles {
		if r.Value == "User.Read.All" {
			roleID = r.ID
		}
	}
	for _, s := range msGraph.Scopes {
		if s.Value == "User.Read" {
			scopeID = s.ID
		}
	}
	if roleID == "" || scopeID == "" {
		t.Fatalf("User.Read.All role %q / User.Read scope %q not published", roleID, scopeID)
	}
	app, created, err := gc.UpsertApplication(ctx, "entra-link-test-sandbox-flow", graph.Application{
		DisplayName:    "entra-link sandbox flow",
		SignInAudience: "AzureADMyOrg",
		Tags:           []string{"entra-link", "entra-link:profile:test"},
		RequiredResourceAccess: []graph.RequiredResourceAccess{{ResourceAppID: graphAppID, ResourceAccess: []graph.ResourceAccess{
			{ID: roleID, Type: "Role"}, {ID: scopeID, Type: "Scope"},
		}}},
	})
	if err != nil || !created || app.UniqueName != "entra-link-test-sandbox-flow" {
		t.Fatalf("UpsertApplication: %+v created %v: %v", app, created, err)
	}
	sp, created, err := gc.UpsertServicePrincipal(ctx, app.AppID, []string{"entra-link"})
	if err != nil || !created {
		t.Fatalf("UpsertServicePrincipal: created %v: %v", created, err)
	}
	if _, err := gc.AssignAppRole(ctx, graph.AppRoleAssignment{PrincipalID: sp.ID, ResourceID: msGraph.ID, AppRoleID: roleID}); err != nil {
		t.Fatalf("AssignAppRole: %v", err)
	}
	// An app role Microsoft Graph does not publish: the tenant says so and
	// the client gives up at once instead of waiting for replication.
	var ge *graph.Error
	if _, err := gc.AssignAppRole(ctx, graph.AppRoleAssignment{PrincipalID: sp.ID, ResourceID: msGraph.ID, AppRoleID: "00000000-1111-2222-3333-444444444444"}); !errors.As(err, &ge) ||
		ge.Status != 400 || ge.Attempts != 1 || !strings.Contains(ge.Message, "Permission being assigned was not found on application") {
		t.Errorf("AssignAppRole with an unknown role: %v, want Graph's 400 after one attempt", err)
	}
	if _, err := gc.CreatePermissionGrant(ctx, graph.PermissionGrant{ClientID: sp.ID, ResourceID: msGraph.ID, Scope: "User.Read"}); err != nil {
		t.Fatalf("CreatePermissionGrant: %v", err)
	}
	if _, err := gc.AssignDirectoryRole(ctx, sp.ID, directoryReaders); err != nil {
		t.Fatalf("AssignDirectoryRole: %v", err)
	}
	secret, err := gc.AddPassword(ctx, app.ID, "entra-link test #1", time.Now().Add(90*24*time.Hour))
	if err != nil {
		t.Fatalf("AddPassword: %v", err)
	}
	return flowResult{app: app, sp: sp, secret: secret}
}

func TestSandboxSetupFlow(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var trace bytes.Buffer
	gc, _ := connect(t, s, cloud.Global, azcloud.AzurePublic, &trace)

	me, err := gc.WhoAmI(ctx)
	if err != nil || !me.AppOnly || me.TenantID != info.TenantID || me.ClientAppID != info.ClientID {
		t.Fatalf("WhoAmI = %+v, %v", me, err)
	}
	org, err := gc.Organization(ctx)
	if err != nil || org.ID != info.TenantID || org.InitialDomain() == "" {
		t.Fatalf("Organization = %+v, %v", org, err)
	}
	roles, err := gc.MyDirectoryRoles(ctx, me)
	if err != nil || len(roles) == 0 {
		t.Fatalf("MyDirectoryRoles = %+v, %v", roles, err)
	}

	r := setupFlow(t, ctx, gc)
	if r.secret.SecretText == "" || r.secret.KeyID == "" {
		t.Fatalf("secret = %+v", r.secret)
	}

	// Everything reads back.
	byTag, err := gc.ApplicationsByTag(ctx, "entra-link:profile:test")
	if err != nil || len(byTag) != 1 || byTag[0].ID != r.app.ID || len(byTag[0].PasswordCredentials) != 1 {
		t.Errorf("ApplicationsByTag = %+v, %v", byTag, err)
	}
	ara, err := gc.AppRoleAssignments(ctx, r.sp.ID)
	if err != nil || len(ara) != 1 {
		t.Errorf("AppRoleAssignments = %+v, %v", ara, err)
	}
	grants, err := gc.PermissionGrants(ctx, r.sp.ID)
	if err != nil || len(grants) != 1 || grants[0].Scope != "User.Read" || grants[0].ConsentType != "AllPrincipals" {
		t.Errorf("PermissionGrants = %+v, %v", grants, err)
	}
	ras, err := gc.RoleAssignments(ctx, r.sp.ID)
	if err != nil || len(ras) != 1 || !strings.EqualFold(ras[0].RoleDefinitionID, directoryReaders) || ras[0].DirectoryScopeID != "/" {
		t.Errorf("RoleAssignments = %+v, %v", ras, err)
	}

	// Re-running the creates is how setup learns something already exists:
	// the upserts find the objects, the POSTs are refused as conflicts.
	if again, created, err := gc.UpsertApplication(ctx, "entra-link-test-sandbox-flow", graph.Application{DisplayName: "entra-link sandbox flow",
		Tags: []string{"entra-link", "entra-link:profile:test"}}); err != nil || created || again.ID != r.app.ID {
		t.Errorf("second UpsertApplication: %+v created %v: %v", again, created, err)
	}
	if again, created, err := gc.UpsertServicePrincipal(ctx, r.app.AppID, []string{"entra-link"}); err != nil || created || again.ID != r.sp.ID {
		t.Errorf("second UpsertServicePrincipal: %+v created %v: %v", again, created, err)
	}
	if _, err := gc.CreateServicePrincipal(ctx, r.app.AppID, nil); !graph.IsConflict(err) {
		t.Errorf("second CreateServicePrincipal: %v, want a conflict", err)
	}
	if _, err := gc.AssignDirectoryRole(ctx, r.sp.ID, directoryReaders); !graph.IsConflict(err) {
		t.Errorf("second AssignDirectoryRole: %v, want a conflict", err)
	}

	// The new secret works: the app signs in and holds what was granted.
	appCred, err := azidentity.NewClientSecretCredential(info.TenantID, r.app.AppID, r.secret.SecretText,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Cloud: azcloud.AzurePublic, Transport: sandboxtest.Client(s)}})
	if err != nil {
		t.Fatal(err)
	}
	appClient, err := graph.New(appCred, graph.Options{Endpoint: cloud.Global.GraphEndpoint, HTTPClient: sandboxtest.Client(s)})
	if err != nil {
		t.Fatal(err)
	}
	who, err := appClient.WhoAmI(ctx)
	if err != nil || !who.AppOnly || who.ClientAppID != r.app.AppID || !contains(who.Roles, "User.Read.All") || !contains(who.RoleIDs, directoryReaders) {
		t.Errorf("the new app's token = %+v, %v", who, err)
	}

	// Certificates: the first by PATCH, the second merged with what
	// ApplicationByID read back, so the first survives.
	first, second := selfSignedDER(t, "first"), selfSignedDER(t, "second")
	keys := []graph.KeyCredential{{Type: "AsymmetricX509Cert", Usage: "Verify", Key: first, DisplayName: "CN=first"}}
	if err := gc.UpdateApplication(ctx, r.app.ID, graph.ApplicationUpdate{KeyCredentials: &keys}); err != nil {
		t.Fatalf("PATCH first certificate: %v", err)
	}
	cur, err := gc.ApplicationByID(ctx, r.app.ID)
	if err != nil || len(cur.KeyCredentials) != 1 || !bytes.Equal(cur.KeyCredentials[0].Key, first) || cur.KeyCredentials[0].KeyID == "" {
		t.Fatalf("after the first certificate: %+v, %v", cur.KeyCredentials, err)
	}
	merged := append(cur.KeyCredentials, graph.KeyCredential{Type: "AsymmetricX509Cert", Usage: "Verify", Key: second, DisplayName: "CN=second"})
	if err := gc.UpdateApplication(ctx, r.app.ID, graph.ApplicationUpdate{KeyCredentials: &merged}); err != nil {
		t.Fatalf("PATCH merged certificates: %v", err)
	}
	cur, err = gc.ApplicationByID(ctx, r.app.ID)
	if err != nil || len(cur.KeyCredentials) != 2 || !bytes.Equal(cur.KeyCredentials[0].Key, first) || !bytes.Equal(cur.KeyCredentials[1].Key, second) {
		t.Fatalf("after merging: %+v, %v", cur.KeyCredentials, err)
	}

	// Cleanup by the API's own deletes.
	if err := gc.DeleteApplication(ctx, r.app.ID); err != nil {
		t.Errorf("DeleteApplication: %v", err)
	}
	if _, err := gc.ApplicationByAppID(ctx, r.app.AppID); !graph.IsNotFound(err) {
		t.Errorf("deleted app still readable: %v", err)
	}

	if strings.Contains(trace.String(), r.secret.SecretText) {
		t.Error("the trace contains the client secret")
	}
	for _, rec := range s.Requests() {
		if rec.Kind == "graph" && rec.Host != "graph.microsoft.com" {
			t.Errorf("Graph request to %s%s", rec.Host, rec.Path)
		}
	}
}

func TestSandboxFaultsAreRetried(t *testing.T) {
	s := sandboxtest.New(t, sandboxtest.ReplicationDelay(1500*time.Millisecond), sandboxtest.ThrottleEvery(6))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var trace bytes.Buffer
	gc, _ := connect(t, s, cloud.Global, azcloud.AzurePublic, &trace)
	r := setupFlow(t, ctx, gc)
	if r.secret.SecretText == "" {
		t.Fatal("no secret")
	}
	faults := map[string]int{}
	for _, rec := range s.Requests() {
		if rec.Fault != "" {
			faults[rec.Fault]++
		}
	}
	if faults["replication"] == 0 || faults["throttle"] == 0 {
		t.Errorf("the sandbox injected %v; the test needs replication and throttling to mean anything", faults)
	}
	if !strings.Contains(trace.String(), "attempt 2)") {
		t.Errorf("no retried attempt in the trace:\n%s", trace.String())
	}
}

// TestSandboxAmbiguousFailures: the emulated tenant commits a request and
// then drops the connection. The upsert is repeated and finds its app; the
// addPassword is repeated only after the secret the dropped attempt made
// was removed. A unique name a deleted app still holds is IsKeyTaken.
func TestSandboxAmbiguousFailures(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gc, _ := connect(t, s, cloud.Global, azcloud.AzurePublic, nil)

	s.Inject(sandbox.Rule{Method: "PATCH", Path: `^/applications\(uniqueName=`, Action: sandbox.ActionDrop})
	app, created, err := gc.UpsertApplication(ctx, "entra-link-test-dropped", graph.Application{DisplayName: "dropped"})
	if err != nil || created {
		t.Fatalf("upsert after a dropped response: %+v created %v: %v", app, created, err)
	}
	same, err := gc.ApplicationsByName(ctx, "dropped")
	if err != nil || len(same) != 1 || same[0].ID != app.ID {
		t.Fatalf("apps named dropped: %+v, %v", same, err)
	}

	s.Inject(sandbox.Rule{Method: "POST", Path: `/addPassword$`, Action: sandbox.ActionDrop})
	pc, err := gc.AddPassword(ctx, app.ID, "entra-link test #dropped", time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatalf("AddPassword after a dropped response: %v", err)
	}
	now, err := gc.ApplicationByID(ctx, app.ID)
	if err != nil || len(now.PasswordCredentials) != 1 || now.PasswordCredentials[0].KeyID != pc.KeyID {
		t.Fatalf("secrets on the app: %+v (%v); want only the one returned, %s", now.PasswordCredentials, err, pc.KeyID)
	}

	if err := gc.DeleteApplication(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = gc.UpsertApplication(ctx, "entra-link-test-dropped", graph.Application{DisplayName: "dropped"})
	if !graph.IsKeyTaken(err) || graph.IsConflict(err) {
		t.Fatalf("upsert of a key held in the recycle bin: %v, want IsKeyTaken", err)
	}
}

func TestSandboxDoDCloud(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gc, rec := connect(t, s, cloud.USGovDoD, azcloud.AzureGovernment, nil)
	if _, err := gc.Organization(ctx); err != nil {
		t.Fatalf("Organization: %v", err)
	}
	app, _, err := gc.UpsertApplication(ctx, "dod-app", graph.Application{DisplayName: "dod app", SignInAudience: "AzureADMyOrg"})
	if err != nil {
		t.Fatalf("UpsertApplication: %v", err)
	}
	if _, err := gc.CreateServicePrincipal(ctx, app.AppID, nil); err != nil {
		t.Fatalf("CreateServicePrincipal: %v", err)
	}
	for _, sc := range rec.seen() {
		if sc != "https://dod-graph.microsoft.us/.default" {
			t.Errorf("token requested for %q, want the DoD Graph scope", sc)
		}
	}
	tok, err := rec.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{gc.Scope()}})
	if err != nil {
		t.Fatal(err)
	}
	if aud := audience(t, tok.Token); strings.TrimSuffix(aud, "/") != "https://dod-graph.microsoft.us" {
		t.Errorf("token audience = %q", aud)
	}
	var graphHosts, loginHosts = map[string]int{}, map[string]int{}
	for _, r := range s.Requests() {
		switch r.Kind {
		case "graph":
			graphHosts[r.Host]++
		case "token":
			loginHosts[r.Host]++
		}
	}
	if len(graphHosts) != 1 || graphHosts["dod-graph.microsoft.us"] < 3 {
		t.Errorf("Graph requests went to %v, want only dod-graph.microsoft.us", graphHosts)
	}
	if len(loginHosts) != 1 || loginHosts["login.microsoftonline.us"] == 0 {
		t.Errorf("sign-in requests went to %v, want only login.microsoftonline.us", loginHosts)
	}
}

func audience(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Aud string `json:"aud"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Aud
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func selfSignedDER(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// An interactive admin (device code through internal/auth): the user path
// of WhoAmI and MyDirectoryRoles (/me/transitiveMemberOf/…directoryRole).
func TestSandboxSignedInAdmin(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cred, err := auth.NewCredential(auth.Options{
		Method: auth.MethodDeviceCode, Tenant: s.Tenant().TenantID, Cloud: cloud.Global,
		HTTPClient: sandboxtest.Client(s), Getenv: func(string) string { return "" },
		DeviceCodePrompt: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := graph.New(cred, graph.Options{Endpoint: cloud.Global.GraphEndpoint, HTTPClient: sandboxtest.Client(s)})
	if err != nil {
		t.Fatal(err)
	}
	me, err := gc.WhoAmI(ctx)
	if err != nil || me.AppOnly || !strings.HasPrefix(me.Name, "admin@") || !contains(me.Scopes, "Application.ReadWrite.All") {
		t.Fatalf("WhoAmI = %+v, %v", me, err)
	}
	roles, err := gc.MyDirectoryRoles(ctx, me)
	if err != nil {
		t.Fatalf("MyDirectoryRoles: %v", err)
	}
	const globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
	found := false
	for _, r := range roles {
		if strings.EqualFold(r.RoleTemplateID, globalAdmin) {
			found = true
		}
	}
	if !found {
		t.Errorf("roles = %+v, want Global Administrator", roles)
	}
	// The whole setup works with nothing but the delegated scopes.
	if _, err := gc.Organization(ctx); err != nil {
		t.Errorf("Organization: %v", err)
	}
	if r := setupFlow(t, ctx, gc); r.secret.SecretText == "" {
		t.Error("no secret")
	}
}
