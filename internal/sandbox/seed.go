package sandbox

import (
	"fmt"
	"strings"
	"time"
)

// bootstrapGraphRoles are the Microsoft Graph application permissions of the
// bootstrap admin: what entra-link needs to set an app up app-only.
var bootstrapGraphRoles = []string{
	"Application.ReadWrite.All",
	"AppRoleAssignment.ReadWrite.All",
	"DelegatedPermissionGrant.ReadWrite.All",
	"RoleManagement.ReadWrite.Directory",
	"Organization.Read.All",
	"Directory.Read.All",
}

// newApplicationProps is the representation Graph returns for a new
// application (application-post-applications example, completed with every
// property of the type that Graph returns by default).
func newApplicationProps(t *tenant, id, appID, displayName, createdByAppID string, now time.Time) map[string]any {
	var createdBy any
	if createdByAppID != "" {
		createdBy = createdByAppID
	}
	return map[string]any{
		"id":                                id,
		"deletedDateTime":                   nil,
		"appId":                             appID,
		"applicationTemplateId":             nil,
		"createdByAppId":                    createdBy,
		"createdDateTime":                   graphTime(now),
		"defaultRedirectUri":                nil,
		"description":                       nil,
		"disabledByMicrosoftStatus":         nil,
		"displayName":                       displayName,
		"groupMembershipClaims":             nil,
		"identifierUris":                    []any{},
		"isDeviceOnlyAuthSupported":         nil,
		"isFallbackPublicClient":            nil,
		"nativeAuthenticationApisEnabled":   nil,
		"notes":                             nil,
		"oauth2RequirePostResponse":         false,
		"publisherDomain":                   t.InitialDomain,
		"serviceManagementReference":        nil,
		"signInAudience":                    "AzureADandPersonalMicrosoftAccount",
		"samlMetadataUrl":                   nil,
		"tags":                              []any{},
		"tokenEncryptionKeyId":              nil,
		"uniqueName":                        nil,
		"addIns":                            []any{},
		"api":                               map[string]any{"acceptMappedClaims": nil, "knownClientApplications": []any{}, "oauth2PermissionScopes": []any{}, "preAuthorizedApplications": []any{}, "requestedAccessTokenVersion": 2},
		"appRoles":                          []any{},
		"certification":                     nil,
		"info":                              map[string]any{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil},
		"keyCredentials":                    []any{},
		"optionalClaims":                    nil,
		"parentalControlSettings":           map[string]any{"countriesBlockedForMinors": []any{}, "legalAgeGroupRule": "Allow"},
		"passwordCredentials":               []any{},
		"publicClient":                      map[string]any{"redirectUris": []any{}},
		"requestSignatureVerification":      nil,
		"requiredResourceAccess":            []any{},
		"servicePrincipalLockConfiguration": nil,
		"spa":                               map[string]any{"redirectUris": []any{}},
		"verifiedPublisher":                 map[string]any{"addedDateTime": nil, "displayName": nil, "verifiedPublisherId": nil},
		"web": map[string]any{
			"homePageUrl": nil, "logoutUrl": nil, "redirectUris": []any{}, "redirectUriSettings": []any{},
			"implicitGrantSettings": map[string]any{"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false},
		},
	}
}

// selectOnlyProps are properties Graph returns only when $select names them.
var selectOnlyProps = map[string]map[string]bool{
	"application":      {"authenticationBehaviors": true, "managerApplications": true, "logo": true},
	"servicePrincipal": {"customSecurityAttributes": true},
}

// newServicePrincipalProps derives an SP from its application.
func newServicePrincipalProps(t *tenant, id string, app map[string]any, now time.Time) map[string]any {
	sp := map[string]any{
		"id":                                     id,
		"deletedDateTime":                        nil,
		"accountEnabled":                         true,
		"alternativeNames":                       []any{},
		"appDescription":                         nil,
		"appId":                                  app["appId"],
		"applicationTemplateId":                  nil,
		"appOwnerOrganizationId":                 t.TenantID,
		"appRoleAssignmentRequired":              false,
		"createdByAppId":                         nil,
		"description":                            nil,
		"disabledByMicrosoftStatus":              nil,
		"isDisabled":                             nil,
		"loginUrl":                               nil,
		"notes":                                  nil,
		"notificationEmailAddresses":             []any{},
		"preferredSingleSignOnMode":              nil,
		"preferredTokenSigningKeyThumbprint":     nil,
		"samlSingleSignOnSettings":               nil,
		"servicePrincipalType":                   "Application",
		"tags":                                   []any{},
		"tokenEncryptionKeyId":                   nil,
		"addIns":                                 []any{},
		"keyCredentials":                         []any{},
		"passwordCredentials":                    []any{},
		"resourceSpecificApplicationPermissions": []any{},
		"verifiedPublisher":                      map[string]any{"addedDateTime": nil, "displayName": nil, "verifiedPublisherId": nil},
	}
	syncSPFromApp(sp, app)
	return sp
}

// syncSPFromApp copies what a service principal mirrors from its
// application; Entra keeps these in step when the application changes.
func syncSPFromApp(sp, app map[string]any) {
	sp["displayName"] = app["displayName"]
	sp["appDisplayName"] = app["displayName"]
	sp["signInAudience"] = app["signInAudience"]
	sp["appRoles"] = deepCopy(app["appRoles"])
	if api, ok := app["api"].(map[string]any); ok {
		sp["oauth2PermissionScopes"] = deepCopy(api["oauth2PermissionScopes"])
	} else {
		sp["oauth2PermissionScopes"] = []any{}
	}
	sp["info"] = deepCopy(app["info"])
	names := []any{app["appId"]}
	for _, u := range strList(app["identifierUris"]) {
		names = append(names, u)
	}
	sp["servicePrincipalNames"] = names
	web, _ := app["web"].(map[string]any)
	sp["homepage"] = web["homePageUrl"]
	sp["logoutUrl"] = web["logoutUrl"]
	if r, ok := web["redirectUris"]; ok {
		sp["replyUrls"] = deepCopy(r)
	} else {
		sp["replyUrls"] = []any{}
	}
}

// builtinSP builds the tenant's service principal of a Microsoft first-party
// application: a resource from the fixtures, or a public client.
func builtinSP(t *tenant, appID, name, kind string, now time.Time) *servicePrincipal {
	names := []any{appID}
	if res := fixtureResource(appID); res != nil {
		names = res.servicePrincipalNames()
	}
	id := newGUID()
	props := map[string]any{
		"id":                                     id,
		"deletedDateTime":                        nil,
		"accountEnabled":                         true,
		"alternativeNames":                       []any{},
		"appDescription":                         nil,
		"appDisplayName":                         name,
		"appId":                                  appID,
		"applicationTemplateId":                  nil,
		"appOwnerOrganizationId":                 microsoftTenantID,
		"appRoleAssignmentRequired":              false,
		"createdByAppId":                         nil,
		"description":                            nil,
		"disabledByMicrosoftStatus":              nil,
		"displayName":                            name,
		"homepage":                               nil,
		"isDisabled":                             nil,
		"loginUrl":                               nil,
		"logoutUrl":                              nil,
		"notes":                                  nil,
		"notificationEmailAddresses":             []any{},
		"preferredSingleSignOnMode":              nil,
		"preferredTokenSigningKeyThumbprint":     nil,
		"replyUrls":                              []any{},
		"samlSingleSignOnSettings":               nil,
		"servicePrincipalNames":                  names,
		"servicePrincipalType":                   "Application",
		"signInAudience":                         "AzureADMultipleOrgs",
		"tags":                                   []any{},
		"tokenEncryptionKeyId":                   nil,
		"addIns":                                 []any{},
		"appRoles":                               []any{},
		"info":                                   map[string]any{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil},
		"keyCredentials":                         []any{},
		"oauth2PermissionScopes":                 []any{},
		"passwordCredentials":                    []any{},
		"resourceSpecificApplicationPermissions": []any{},
		"verifiedPublisher":                      map[string]any{"addedDateTime": nil, "displayName": nil, "verifiedPublisherId": nil},
	}
	sp := &servicePrincipal{Props: props, Builtin: kind, Seq: t.seq()}
	fillBuiltinPermissions(sp)
	return sp
}

func newUserProps(id, displayName, given, surname, upn string, now time.Time) map[string]any {
	return map[string]any{
		"id":                id,
		"deletedDateTime":   nil,
		"accountEnabled":    true,
		"businessPhones":    []any{},
		"createdDateTime":   graphDate(now),
		"displayName":       displayName,
		"givenName":         given,
		"jobTitle":          nil,
		"mail":              upn,
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": "en-US",
		"surname":           surname,
		"userPrincipalName": upn,
		"userType":          "Member",
	}
}

// userDefaultProps are the properties GET /me and /users return without $select.
var userDefaultProps = []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}

// newTenant creates a fresh directory: organization, Microsoft Graph and
// Exchange Online service principals, an admin user and the bootstrap admin
// application, both Global Administrators. It returns the bootstrap secret.
func newTenant(extraDomains []string) (*tenant, string) {
	now := time.Now().UTC()
	// Objects seeded here count as long replicated.
	seeded := now.Add(-24 * time.Hour)
	t := &tenant{
		Version:            stateVersion,
		TenantID:           newGUID(),
		InitialDomain:      "contososandbox" + strings.ToLower(randString(6, "abcdefghijklmnopqrstuvwxyz0123456789")) + ".onmicrosoft.com",
		DisplayName:        "Contoso (entra-link sandbox)",
		CreatedDateTime:    now.Truncate(time.Second),
		DirectoryRoleIDs:   map[string]string{},
		Applications:       map[string]*application{},
		ServicePrincipals:  map[string]*servicePrincipal{},
		Users:              map[string]*user{},
		AppRoleAssignments: map[string]*appRoleAssignment{},
		Grants:             map[string]*permissionGrant{},
		RoleAssignments:    map[string]*roleAssignment{},
	}
	t.ExtraDomains = mergeDomains([]string{"contoso.com"}, extraDomains)
	for _, r := range roleTemplates() {
		t.DirectoryRoleIDs[r.ID] = newGUID()
	}
	t.seedResources(seeded)

	adminID := newGUID()
	t.Users[adminID] = &user{Props: newUserProps(adminID, "Sandbox Administrator", "Sandbox", "Administrator", "admin@"+t.InitialDomain, now), Created: seeded, Seq: t.seq()}
	t.AdminUserID = adminID
	t.addRoleAssignment(globalAdminRoleID, adminID, "/", seeded)

	appID, secret, err := t.createPrincipal("entra-link sandbox admin", bootstrapGraphRoles, []string{"Global Administrator"}, seeded)
	if err != nil {
		panic(fmt.Sprintf("sandbox: seed bootstrap admin: %v", err))
	}
	t.BootstrapAppID = appID
	return t, secret
}

func mergeDomains(base, extra []string) []string {
	out := append([]string(nil), base...)
	for _, d := range extra {
		d = strings.ToLower(strings.TrimSpace(d))
		if d != "" && !contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func (t *tenant) addRoleAssignment(roleDefinitionID, principalID, scope string, created time.Time) *roleAssignment {
	ra := &roleAssignment{
		ID: roleAssignmentID(roleDefinitionID, principalID, scope), PrincipalID: principalID,
		RoleDefinitionID: roleDefinitionID, DirectoryScopeID: scope, Created: created, Seq: t.seq(),
	}
	t.RoleAssignments[ra.ID] = ra
	return ra
}

// addSecret adds a password credential to app and returns its
// representation with secretText (the only time it exists in clear).
func (t *tenant) addSecret(app *application, displayName any, start, end time.Time, now time.Time) map[string]any {
	secret := newSecretText()
	keyID := newGUID()
	salt := randString(16, secretAlphabet[:62])
	app.Secrets = append(app.Secrets, secretRecord{KeyID: keyID, Salt: salt, Hash: hashSecret(salt, secret)})
	if app.CredAdded == nil {
		app.CredAdded = map[string]time.Time{}
	}
	app.CredAdded[keyID] = now
	cred := map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         displayName,
		"endDateTime":         graphTime(end),
		"hint":                secret[:3],
		"keyId":               keyID,
		"secretText":          nil,
		"startDateTime":       graphTime(start),
	}
	app.Props["passwordCredentials"] = append(app.Props["passwordCredentials"].([]any), cred)
	out := deepCopy(cred).(map[string]any)
	out["secretText"] = secret
	return out
}

// createPrincipal creates an application, its service principal and a
// two-year secret, assigns Microsoft Graph app roles and directory roles by
// name, and returns the appId and the secret. created backdates the objects
// (fixtures are not subject to the replication delay).
func (t *tenant) createPrincipal(name string, graphRoles, directoryRoles []string, created time.Time) (string, string, error) {
	graphRes := fixtureResource(graphAppID)
	graphSP := t.spByAppID(graphAppID)
	var roleIDs []string
	for _, r := range graphRoles {
		id, err := graphRes.appRoleID(r)
		if err != nil {
			return "", "", err
		}
		roleIDs = append(roleIDs, id)
	}
	var templates []string
	for _, r := range directoryRoles {
		role, err := roleTemplateByName(r)
		if err != nil {
			return "", "", err
		}
		templates = append(templates, role.ID)
	}
	now := time.Now()
	id, appID := newGUID(), newGUID()
	props := newApplicationProps(t, id, appID, name, "", created)
	props["signInAudience"] = "AzureADMyOrg"
	access := []any{}
	for _, rid := range roleIDs {
		access = append(access, map[string]any{"id": rid, "type": "Role"})
	}
	if len(access) > 0 {
		props["requiredResourceAccess"] = []any{map[string]any{"resourceAppId": graphAppID, "resourceAccess": access}}
	}
	app := &application{Props: props, Created: created, Seq: t.seq()}
	t.Applications[id] = app
	secret := t.addSecret(app, "sandbox fixture", now, now.AddDate(2, 0, 0), created)
	spID := newGUID()
	sp := &servicePrincipal{Props: newServicePrincipalProps(t, spID, props, created), Created: created, Seq: t.seq()}
	t.ServicePrincipals[spID] = sp
	for _, rid := range roleIDs {
		a := &appRoleAssignment{ID: opaqueID(spID, newGUID()), PrincipalID: spID, PrincipalType: "ServicePrincipal",
			ResourceID: str(graphSP.Props, "id"), AppRoleID: rid, Created: created, Seq: t.seq()}
		t.AppRoleAssignments[a.ID] = a
	}
	for _, tmpl := range templates {
		t.addRoleAssignment(tmpl, spID, "/", created)
	}
	return appID, secret["secretText"].(string), nil
}

// deepCopy copies decoded JSON values (maps, slices, scalars).
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	default:
		return v
	}
}

// seedResources gives the tenant a service principal for every first-party
// resource in the fixtures that it has none for (a state directory written
// before a resource was added to the fixtures gets it on load). It reports
// whether it added any.
func (t *tenant) seedResources(created time.Time) bool {
	added := false
	for _, res := range fixtures().resources {
		if t.spByAppID(res.AppID) != nil {
			continue
		}
		sp := builtinSP(t, res.AppID, res.DisplayName, "resource", created)
		sp.Created = created
		t.ServicePrincipals[str(sp.Props, "id")] = sp
		added = true
	}
	return added
}
