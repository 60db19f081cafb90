//go:build clients

package clienttest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithappid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/oauth2permissiongrants"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipalswithappid"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// sdkVersion is the msgraph-sdk-go version go.mod pins; the telemetry
// header carries it, as the root package's adapter would.
const sdkVersion = "1.103.0"

// newSDKAdapter builds the adapter the SDK's root package would build
// (msgraphsdkgo.NewGraphRequestAdapter… → msgraph-sdk-go-core's
// GraphRequestAdapterBase with kiota's default middleware: telemetry, retry,
// redirect, gzip compression, …) without importing the root package, whose
// compile costs minutes. Only the transport differs: it reaches the sandbox
// for graph.microsoft.com and login.microsoftonline.com.
func newSDKAdapter(t *testing.T, s *sandbox.Server, clientID, secret string, wire *wireLog) *msgraphgocore.GraphRequestAdapterBase {
	t.Helper()
	// The JSON parse node and writer are what the root package registers
	// in NewGraphServiceClient; the models are decoded by them.
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return jsonser.NewJsonSerializationWriterFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return jsonser.NewJsonParseNodeFactory() })

	hc := sandboxtest.Client(s)
	cred, err := azidentity.NewClientSecretCredential(s.Tenant().TenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{
			Cloud: azcloud.AzurePublic, Transport: hc, Retry: policy.RetryOptions{MaxRetries: -1},
		}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred,
		[]string{"https://graph.microsoft.com/.default"}, []string{"graph.microsoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	opts := msgraphgocore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion}
	sdkClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(wire.wrap(s.Transport()), msgraphgocore.GetDefaultMiddlewaresWithOptions(&opts)...),
		Timeout:   30 * time.Second,
		// As khttp.GetDefaultClient: the RedirectHandler middleware follows redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, opts, nil, nil, sdkClient)
	if err != nil {
		t.Fatal(err)
	}
	// NewGraphServiceClient sets this default; the leaf builders do not.
	adapter.SetBaseUrl("https://graph.microsoft.com/v1.0")
	return adapter
}

// wireLog counts what the SDK put on the wire below its middleware.
type wireLog struct {
	mu               sync.Mutex
	posts, gzipPosts int
}

type wireTransport struct {
	log  *wireLog
	next http.RoundTripper
}

func (l *wireLog) wrap(next http.RoundTripper) http.RoundTripper {
	return &wireTransport{log: l, next: next}
}

func (w *wireTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.Host == "graph.microsoft.com" {
		w.log.mu.Lock()
		w.log.posts++
		if r.Header.Get("Content-Encoding") == "gzip" {
			w.log.gzipPosts++
		}
		w.log.mu.Unlock()
	}
	return w.next.RoundTrip(r)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestMSGraphSDKModels drives the setup flow through msgraph-sdk-go's
// request builders and default kiota adapter, so every response the
// sandbox sends is decoded by the SDK's own parse nodes into its models;
// the parsed fields are then checked. The caller is a least-privilege
// principal holding the application permissions entra-link documents.
func TestMSGraphSDKModels(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	clientID, secret, err := s.CreatePrincipal(context.Background(), "msgraph-sdk-go models", []string{
		"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
		"RoleManagement.ReadWrite.Directory", "Organization.Read.All",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wire := &wireLog{}
	adapter := newSDKAdapter(t, s, clientID, secret, wire)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	noParams := map[string]string{}

	graphRes := catalog.ResourceByAppID(catalog.GraphAppID)
	userReadAll, ok := graphRes.AppRole("User.Read.All")
	if !ok {
		t.Fatal("catalog has no User.Read.All")
	}
	userRead, ok := graphRes.Scope("User.Read")
	if !ok {
		t.Fatal("catalog has no User.Read")
	}

	// GET /organization
	orgs, err := organization.NewOrganizationRequestBuilderInternal(noParams, adapter).Get(ctx, nil)
	if err != nil {
		t.Fatalf("GET /organization: %s", describe(err))
	}
	if v := orgs.GetValue(); len(v) != 1 || deref(v[0].GetId()) != info.TenantID {
		t.Fatalf("organization: got %d entries, want the tenant %s", len(v), info.TenantID)
	}
	org := orgs.GetValue()[0]
	var initial bool
	for _, d := range org.GetVerifiedDomains() {
		if deref(d.GetName()) == info.TenantDomain && deref(d.GetIsInitial()) {
			initial = true
		}
	}
	if !initial || deref(org.GetDisplayName()) == "" {
		t.Errorf("organization %q: verifiedDomains lack the initial domain %s", deref(org.GetDisplayName()), info.TenantDomain)
	}

	// POST /applications with a required Graph application permission.
	ra := models.NewResourceAccess()
	ra.SetId(ptr(uuid.MustParse(userReadAll.ID)))
	ra.SetTypeEscaped(ptr("Role"))
	rra := models.NewRequiredResourceAccess()
	rra.SetResourceAppId(ptr(catalog.GraphAppID))
	rra.SetResourceAccess([]models.ResourceAccessable{ra})
	newApp := models.NewApplication()
	newApp.SetDisplayName(ptr("sdk models app"))
	newApp.SetSignInAudience(ptr("AzureADMyOrg"))
	newApp.SetRequiredResourceAccess([]models.RequiredResourceAccessable{rra})
	app, err := applications.NewApplicationsRequestBuilderInternal(noParams, adapter).Post(ctx, newApp, nil)
	if err != nil {
		t.Fatalf("POST /applications: %s", describe(err))
	}
	appObjID, appID := deref(app.GetId()), deref(app.GetAppId())
	if _, err := uuid.Parse(appObjID); err != nil {
		t.Errorf("application id %q is not a GUID", appObjID)
	}
	if _, err := uuid.Parse(appID); err != nil {
		t.Errorf("application appId %q is not a GUID", appID)
	}
	if deref(app.GetDisplayName()) != "sdk models app" || deref(app.GetSignInAudience()) != "AzureADMyOrg" {
		t.Errorf("application: displayName %q signInAudience %q", deref(app.GetDisplayName()), deref(app.GetSignInAudience()))
	}
	if c := app.GetCreatedDateTime(); c == nil || time.Since(*c) > time.Minute || time.Since(*c) < -time.Minute {
		t.Errorf("application createdDateTime %v is not now", c)
	}
	if r := app.GetRequiredResourceAccess(); len(r) != 1 || deref(r[0].GetResourceAppId()) != catalog.GraphAppID ||
		len(r[0].GetResourceAccess()) != 1 || r[0].GetResourceAccess()[0].GetId().String() != userReadAll.ID ||
		deref(r[0].GetResourceAccess()[0].GetTypeEscaped()) != "Role" {
		t.Errorf("application requiredResourceAccess did not round-trip")
	}
	if deref(app.GetPublisherDomain()) == "" {
		t.Errorf("application publisherDomain is empty")
	}
	if app.GetPasswordCredentials() == nil || len(app.GetPasswordCredentials()) != 0 {
		t.Errorf("new application: passwordCredentials = %v, want an empty collection", app.GetPasswordCredentials())
	}

	// GET /applications(appId='…')
	byAppID, err := applicationswithappid.NewApplicationsWithAppIdRequestBuilderInternal(noParams, adapter, &appID).Get(ctx, nil)
	if err != nil {
		t.Fatalf("GET /applications(appId=): %s", describe(err))
	}
	if deref(byAppID.GetId()) != appObjID || deref(byAppID.GetAppId()) != appID {
		t.Errorf("application by appId: id %q appId %q, want %q %q", deref(byAppID.GetId()), deref(byAppID.GetAppId()), appObjID, appID)
	}

	// POST /applications/{id}/addPassword
	pw := models.NewPasswordCredential()
	pw.SetDisplayName(ptr("sdk secret"))
	end := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	pw.SetEndDateTime(&end)
	body := applications.NewItemAddPasswordPostRequestBody()
	body.SetPasswordCredential(pw)
	cred, err := applications.NewApplicationsRequestBuilderInternal(noParams, adapter).ByApplicationId(appObjID).AddPassword().Post(ctx, body, nil)
	if err != nil {
		t.Fatalf("POST addPassword: %s", describe(err))
	}
	secretText := deref(cred.GetSecretText())
	if len(secretText) < 30 {
		t.Errorf("addPassword secretText has %d characters, want a generated secret", len(secretText))
	}
	if len(secretText) >= 3 && deref(cred.GetHint()) != secretText[:3] {
		t.Errorf("addPassword hint is not the secret's first 3 characters")
	}
	if cred.GetKeyId() == nil || deref(cred.GetDisplayName()) != "sdk secret" {
		t.Errorf("addPassword: keyId %v displayName %q", cred.GetKeyId(), deref(cred.GetDisplayName()))
	}
	if e := cred.GetEndDateTime(); e == nil || !e.Equal(end) {
		t.Errorf("addPassword endDateTime %v, want %v", e, end)
	}

	// POST /servicePrincipals
	newSP := models.NewServicePrincipal()
	newSP.SetAppId(&appID)
	spsBuilder := serviceprincipals.NewServicePrincipalsRequestBuilderInternal(noParams, adapter)
	sp, err := spsBuilder.Post(ctx, newSP, nil)
	if err != nil {
		t.Fatalf("POST /servicePrincipals: %s", describe(err))
	}
	spID := deref(sp.GetId())
	if deref(sp.GetAppId()) != appID || deref(sp.GetDisplayName()) != "sdk models app" ||
		deref(sp.GetServicePrincipalType()) != "Application" || deref(sp.GetAppOwnerOrganizationId()).String() != info.TenantID {
		t.Errorf("service principal: appId %q displayName %q type %q owner %v", deref(sp.GetAppId()), deref(sp.GetDisplayName()),
			deref(sp.GetServicePrincipalType()), sp.GetAppOwnerOrganizationId())
	}
	if names := sp.GetServicePrincipalNames(); len(names) == 0 || names[0] != appID {
		t.Errorf("service principal servicePrincipalNames %v, want the appId first", names)
	}

	// A second service principal for the same app: 409, decoded by the
	// SDK's ODataError parse node.
	_, err = spsBuilder.Post(ctx, newSP, nil)
	var odataErr *odataerrors.ODataError
	if !errors.As(err, &odataErr) || odataErr.ResponseStatusCode != 409 ||
		deref(odataErr.GetErrorEscaped().GetCode()) != "Request_MultipleObjectsWithSameKeyValue" {
		t.Errorf("duplicate service principal: %s, want 409 Request_MultipleObjectsWithSameKeyValue", describe(err))
	} else if odataErr.GetErrorEscaped().GetInnerError() == nil || odataErr.GetErrorEscaped().GetInnerError().GetRequestId() == nil {
		t.Errorf("duplicate service principal: the error has no innerError.request-id")
	}

	// GET /servicePrincipals(appId='…') for Microsoft Graph: the app roles
	// and scopes the setup resolves names against.
	graphSP, err := serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(noParams, adapter, ptr(catalog.GraphAppID)).Get(ctx, nil)
	if err != nil {
		t.Fatalf("GET /servicePrincipals(appId=Graph): %s", describe(err))
	}
	graphSPID := deref(graphSP.GetId())
	var roleFound, scopeFound bool
	for _, r := range graphSP.GetAppRoles() {
		if deref(r.GetValue()) == "User.Read.All" && r.GetId().String() == userReadAll.ID && deref(r.GetIsEnabled()) &&
			len(r.GetAllowedMemberTypes()) == 1 && r.GetAllowedMemberTypes()[0] == "Application" {
			roleFound = true
		}
	}
	for _, sc := range graphSP.GetOauth2PermissionScopes() {
		if deref(sc.GetValue()) == "User.Read" && sc.GetId().String() == userRead.ID && deref(sc.GetTypeEscaped()) == "User" {
			scopeFound = true
		}
	}
	if !roleFound || !scopeFound || len(graphSP.GetAppRoles()) < 100 {
		t.Errorf("Graph service principal: %d app roles (User.Read.All found: %v), User.Read scope found: %v",
			len(graphSP.GetAppRoles()), roleFound, scopeFound)
	}
	ownSP, err := serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(noParams, adapter, &appID).Get(ctx, nil)
	if err != nil {
		t.Fatalf("GET /servicePrincipals(appId=new app): %s", describe(err))
	}
	if deref(ownSP.GetId()) != spID {
		t.Errorf("service principal by appId: id %q, want %q", deref(ownSP.GetId()), spID)
	}

	// POST /servicePrincipals/{Graph}/appRoleAssignedTo (admin consent to
	// an application permission).
	ara := models.NewAppRoleAssignment()
	ara.SetPrincipalId(ptr(uuid.MustParse(spID)))
	ara.SetResourceId(ptr(uuid.MustParse(graphSPID)))
	ara.SetAppRoleId(ptr(uuid.MustParse(userReadAll.ID)))
	assignedTo := spsBuilder.ByServicePrincipalId(graphSPID).AppRoleAssignedTo()
	assignment, err := assignedTo.Post(ctx, ara, nil)
	if err != nil {
		t.Fatalf("POST appRoleAssignedTo: %s", describe(err))
	}
	if assignment.GetPrincipalId().String() != spID || assignment.GetResourceId().String() != graphSPID ||
		assignment.GetAppRoleId().String() != userReadAll.ID || deref(assignment.GetPrincipalType()) != "ServicePrincipal" ||
		deref(assignment.GetPrincipalDisplayName()) != "sdk models app" || deref(assignment.GetResourceDisplayName()) != "Microsoft Graph" ||
		deref(assignment.GetId()) == "" || assignment.GetCreatedDateTime() == nil {
		t.Errorf("app role assignment: principal %v resource %v role %v type %q names %q/%q id %q",
			assignment.GetPrincipalId(), assignment.GetResourceId(), assignment.GetAppRoleId(), deref(assignment.GetPrincipalType()),
			deref(assignment.GetPrincipalDisplayName()), deref(assignment.GetResourceDisplayName()), deref(assignment.GetId()))
	}
	// The same assignment again: Graph's 400 "Permission being assigned
	// already exists on the object".
	_, err = assignedTo.Post(ctx, ara, nil)
	if !errors.As(err, &odataErr) || odataErr.ResponseStatusCode != 400 ||
		!strings.Contains(deref(odataErr.GetErrorEscaped().GetMessage()), "Permission being assigned already exists") {
		t.Errorf("duplicate app role assignment: %s", describe(err))
	}
	filter := "principalId eq " + spID
	list, err := assignedTo.Get(ctx, &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetQueryParameters{Filter: &filter},
	})
	if err != nil {
		t.Fatalf("GET appRoleAssignedTo: %s", describe(err))
	}
	if v := list.GetValue(); len(v) != 1 || deref(v[0].GetId()) != deref(assignment.GetId()) {
		t.Errorf("appRoleAssignedTo filtered on the principal: %d entries, want the one assignment", len(v))
	}

	// POST /oauth2PermissionGrants (admin consent to a delegated scope).
	g := models.NewOAuth2PermissionGrant()
	g.SetClientId(&spID)
	g.SetConsentType(ptr("AllPrincipals"))
	g.SetResourceId(&graphSPID)
	g.SetScope(ptr("User.Read"))
	grantsBuilder := oauth2permissiongrants.NewOauth2PermissionGrantsRequestBuilderInternal(noParams, adapter)
	grant, err := grantsBuilder.Post(ctx, g, nil)
	if err != nil {
		t.Fatalf("POST /oauth2PermissionGrants: %s", describe(err))
	}
	if deref(grant.GetId()) == "" || deref(grant.GetClientId()) != spID || deref(grant.GetResourceId()) != graphSPID ||
		deref(grant.GetConsentType()) != "AllPrincipals" || deref(grant.GetScope()) != "User.Read" || grant.GetPrincipalId() != nil {
		t.Errorf("grant: id %q client %q resource %q consent %q scope %q principal %v", deref(grant.GetId()), deref(grant.GetClientId()),
			deref(grant.GetResourceId()), deref(grant.GetConsentType()), deref(grant.GetScope()), grant.GetPrincipalId())
	}
	_, err = grantsBuilder.Post(ctx, g, nil)
	if !errors.As(err, &odataErr) || odataErr.ResponseStatusCode != 409 {
		t.Errorf("duplicate delegated grant: %s, want 409", describe(err))
	}
	gFilter := "clientId eq '" + spID + "'"
	grants, err := grantsBuilder.Get(ctx, &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetRequestConfiguration{
		QueryParameters: &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetQueryParameters{Filter: &gFilter},
	})
	if err != nil {
		t.Fatalf("GET /oauth2PermissionGrants: %s", describe(err))
	}
	if v := grants.GetValue(); len(v) != 1 || deref(v[0].GetScope()) != "User.Read" {
		t.Errorf("grants filtered on the client: %d entries, want the one grant", len(v))
	}

	// POST /roleManagement/directory/roleAssignments
	role, err := catalog.LookupRole("Exchange Administrator")
	if err != nil {
		t.Fatal(err)
	}
	ura := models.NewUnifiedRoleAssignment()
	ura.SetPrincipalId(&spID)
	ura.SetRoleDefinitionId(&role.TemplateID)
	ura.SetDirectoryScopeId(ptr("/"))
	raBuilder := rolemanagement.NewRoleManagementRequestBuilderInternal(noParams, adapter).Directory().RoleAssignments()
	roleAssignment, err := raBuilder.Post(ctx, ura, nil)
	if err != nil {
		t.Fatalf("POST roleAssignments: %s", describe(err))
	}
	if deref(roleAssignment.GetId()) == "" || deref(roleAssignment.GetPrincipalId()) != spID ||
		deref(roleAssignment.GetRoleDefinitionId()) != role.TemplateID || deref(roleAssignment.GetDirectoryScopeId()) != "/" {
		t.Errorf("role assignment: id %q principal %q definition %q scope %q", deref(roleAssignment.GetId()),
			deref(roleAssignment.GetPrincipalId()), deref(roleAssignment.GetRoleDefinitionId()), deref(roleAssignment.GetDirectoryScopeId()))
	}
	rFilter := "principalId eq '" + spID + "'"
	ras, err := raBuilder.Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &rFilter},
	})
	if err != nil {
		t.Fatalf("GET roleAssignments: %s", describe(err))
	}
	if v := ras.GetValue(); len(v) != 1 || deref(v[0].GetRoleDefinitionId()) != role.TemplateID {
		t.Errorf("role assignments filtered on the principal: %d entries, want the one assignment", len(v))
	}

	// The new app's secret now signs in, and its token carries the
	// consented role and the directory role.
	newAdapter := newSDKAdapter(t, s, appID, secretText, &wireLog{})
	if _, err := organization.NewOrganizationRequestBuilderInternal(noParams, newAdapter).Get(ctx, nil); err == nil {
		t.Errorf("GET /organization with only User.Read.All succeeded; want 403 Authorization_RequestDenied")
	} else if !errors.As(err, &odataErr) || odataErr.ResponseStatusCode != 403 ||
		deref(odataErr.GetErrorEscaped().GetCode()) != "Authorization_RequestDenied" {
		t.Errorf("GET /organization with only User.Read.All: %s, want 403 Authorization_RequestDenied", describe(err))
	}

	// The bodies went out as the SDK sends them: gzip (CompressionHandler)
	// carrying the JSON the models serialize, "@odata.type" included.
	if wire.posts == 0 || wire.gzipPosts != wire.posts {
		t.Errorf("%d of %d POST bodies were gzip-compressed; the SDK's CompressionHandler should compress all", wire.gzipPosts, wire.posts)
	}
	// Every request went to the real Microsoft host names.
	for _, r := range s.Requests() {
		if r.Host != "graph.microsoft.com" && r.Host != "login.microsoftonline.com" {
			t.Errorf("request to unexpected host %s %s%s", r.Method, r.Host, r.Path)
		}
	}
}

// describe formats an SDK error without relying on ODataError.Error(),
// which dereferences error.message unconditionally.
func describe(err error) string {
	if err == nil {
		return "no error"
	}
	var o *odataerrors.ODataError
	if errors.As(err, &o) {
		if e := o.GetErrorEscaped(); e != nil {
			return fmt.Sprintf("ODataError %d %s: %s", o.ResponseStatusCode, deref(e.GetCode()), deref(e.GetMessage()))
		}
		return fmt.Sprintf("ODataError %d without an error object", o.ResponseStatusCode)
	}
	return err.Error()
}
