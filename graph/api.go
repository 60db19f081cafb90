package graph

import (
	"context"
	"time"
)

// API is every Graph operation entra-link performs. *Client implements it;
// consumers (internal/setup and friends) depend on this interface, or on a
// narrower one of their own, never on msgraph-sdk-go.
//
// Error contract: every method returns nil or an error that errors.As-matches
// *Error (status, Graph error code, message, request id) — never an SDK type.
// NotFound/Conflict/… helpers classify it. Replication errors, 429, 503,
// 504 and transport errors are retried inside the client wherever a repeat
// is safe (bounded, honouring Retry-After, under the deadline of ctx and of
// Options.RetryDeadline; see retry.go); callers see only the final result.
type API interface {
	// WhoAmI decodes the current access token's claims (no Graph call).
	WhoAmI(ctx context.Context) (Identity, error)
	// RenewToken gets a new access token (a claims challenge: never one
	// from a cache) and decodes its claims like WhoAmI; later calls use it.
	RenewToken(ctx context.Context) (Identity, error)
	// Organization is GET /organization (the caller's tenant).
	Organization(ctx context.Context) (Organization, error)
	// MyDirectoryRoles lists the signed-in identity's active tenant-wide
	// directory roles: its role assignments (roleManagement/directory) joined
	// with the token's wids claim. (/me/transitiveMemberOf needs User.Read,
	// which the least-privilege sign-in does not request.)
	MyDirectoryRoles(ctx context.Context, id Identity) ([]DirectoryRole, error)
	// MyEligibleRoles lists the roles the signed-in user may activate in PIM
	// (roleEligibilityScheduleInstances/filterByCurrentUser(on='principal')).
	MyEligibleRoles(ctx context.Context) ([]EligibleRole, error)
	// User is GET /users/{id | userPrincipalName} (needs User.ReadBasic.All).
	User(ctx context.Context, idOrUPN string) (DirectoryObject, error)

	// DefaultAppManagementPolicy is GET /policies/defaultAppManagementPolicy.
	DefaultAppManagementPolicy(ctx context.Context) (AppManagementPolicy, error)
	// AppManagementPolicies is GET /applications/{id}/appManagementPolicies.
	AppManagementPolicies(ctx context.Context, appObjectID string) ([]AppManagementPolicy, error)

	// ApplicationByAppID is GET /applications(appId='…'); *Error NotFound if absent.
	ApplicationByAppID(ctx context.Context, appID string) (Application, error)
	// ApplicationByID is GET /applications/{id}, including keyCredentials' keys.
	ApplicationByID(ctx context.Context, objectID string) (Application, error)
	// ApplicationsByTag lists applications carrying tag ($filter=tags/any(t:t eq '…')), all pages.
	ApplicationsByTag(ctx context.Context, tag string) ([]Application, error)
	// ApplicationsByName lists applications with exactly this display name, all pages.
	ApplicationsByName(ctx context.Context, displayName string) ([]Application, error)
	// UpsertApplication is PATCH /applications(uniqueName='…') with Prefer:
	// create-if-missing: created reports 201 (else it existed and was
	// updated with app's properties, then read back).
	UpsertApplication(ctx context.Context, uniqueName string, app Application) (out Application, created bool, err error)
	// UpdateApplication is PATCH /applications/{id}.
	UpdateApplication(ctx context.Context, objectID string, u ApplicationUpdate) error
	// ApplicationOwners is GET /applications/{id}/owners, all pages.
	ApplicationOwners(ctx context.Context, appObjectID string) ([]DirectoryObject, error)
	// AddApplicationOwner is POST /applications/{id}/owners/$ref.
	AddApplicationOwner(ctx context.Context, appObjectID, principalID string) error
	// DeleteApplication is DELETE /applications/{id} (to the recycle bin).
	DeleteApplication(ctx context.Context, objectID string) error
	// AddPassword is POST /applications/{id}/addPassword; the result carries
	// SecretText. displayName must be unique to the call: after an ambiguous
	// failure the credential with that name is removed before the request is
	// repeated (MayHaveTakenEffect when that could not be checked).
	AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (PasswordCredential, error)
	// RemovePassword is POST /applications/{id}/removePassword.
	RemovePassword(ctx context.Context, objectID, keyID string) error
	// AddKey is POST /applications/{id}/addKey: one certificate, proven by
	// a JWT signed with a valid certificate of the app (no permission
	// needed for an app rolling its own keys).
	AddKey(ctx context.Context, objectID string, key KeyCredential, proof string) (KeyCredential, error)
	// RemoveKey is POST /applications/{id}/removeKey, proven like AddKey.
	RemoveKey(ctx context.Context, objectID, keyID, proof string) error
	// ServicePrincipalSignIns lists the app's newest service principal
	// sign-ins with the credential each presented (beta auditLogs/signIns;
	// AuditLog.Read.All and Directory.Read.All).
	ServicePrincipalSignIns(ctx context.Context, appID string) ([]SignIn, error)

	// ServicePrincipalByAppID is GET /servicePrincipals(appId='…') with appRoles
	// and oauth2PermissionScopes; *Error NotFound if absent.
	ServicePrincipalByAppID(ctx context.Context, appID string) (ServicePrincipal, error)
	// ServicePrincipalsByName lists service principals with exactly this display name, all pages.
	ServicePrincipalsByName(ctx context.Context, displayName string) ([]ServicePrincipal, error)
	// CreateServicePrincipal is POST /servicePrincipals {appId, tags} (a 409
	// for an existing one is IsConflict).
	CreateServicePrincipal(ctx context.Context, appID string, tags []string) (ServicePrincipal, error)
	// UpsertServicePrincipal is PATCH /servicePrincipals(appId='…') {tags}
	// with Prefer: create-if-missing; created reports 201.
	UpsertServicePrincipal(ctx context.Context, appID string, tags []string) (out ServicePrincipal, created bool, err error)
	// UpdateServicePrincipalTags is PATCH /servicePrincipals/{id} {tags}.
	UpdateServicePrincipalTags(ctx context.Context, objectID string, tags []string) error
	// DeleteServicePrincipal is DELETE /servicePrincipals/{id}.
	DeleteServicePrincipal(ctx context.Context, objectID string) error
	// ServicePrincipalsByAppIDs looks up many apps' service principals in
	// one round trip ($filter=appId in (…) in $batches), keyed by lower-case
	// appId; apps without one are absent.
	ServicePrincipalsByAppIDs(ctx context.Context, appIDs []string) (map[string]ServicePrincipal, error)
	// HoldingsOf reads what many service principals hold (app role
	// assignments, delegated grants, directory role assignments) in one
	// round trip, keyed by lower-case object id.
	HoldingsOf(ctx context.Context, principalIDs []string) (map[string]*Holdings, error)
	// DeleteServicePrincipalAndApplication deletes the service principal
	// (with what it holds) and then the app in one $batch (dependsOn).
	DeleteServicePrincipalAndApplication(ctx context.Context, spID, appObjectID string) (spErr, appErr error)

	// AppRoleAssignments is GET /servicePrincipals/{id}/appRoleAssignments (granted to the SP), all pages.
	AppRoleAssignments(ctx context.Context, principalID string) ([]AppRoleAssignment, error)
	// AssignAppRole is POST /servicePrincipals/{resourceId}/appRoleAssignedTo.
	AssignAppRole(ctx context.Context, a AppRoleAssignment) (AppRoleAssignment, error)
	// DeleteAppRoleAssignment is DELETE /servicePrincipals/{resourceId}/appRoleAssignedTo/{id}.
	DeleteAppRoleAssignment(ctx context.Context, resourceID, assignmentID string) error

	// PermissionGrants is GET /oauth2PermissionGrants?$filter=clientId eq '…', all pages.
	PermissionGrants(ctx context.Context, clientID string) ([]PermissionGrant, error)
	// CreatePermissionGrant is POST /oauth2PermissionGrants.
	CreatePermissionGrant(ctx context.Context, g PermissionGrant) (PermissionGrant, error)
	// UpdatePermissionGrantScope is PATCH /oauth2PermissionGrants/{id} {scope}.
	UpdatePermissionGrantScope(ctx context.Context, grantID, scope string) error
	// DeletePermissionGrant is DELETE /oauth2PermissionGrants/{id}.
	DeletePermissionGrant(ctx context.Context, grantID string) error

	// RoleAssignments is GET /roleManagement/directory/roleAssignments?$filter=principalId eq '…', all pages.
	RoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error)
	// AssignDirectoryRole is POST /roleManagement/directory/roleAssignments (directoryScopeId "/").
	AssignDirectoryRole(ctx context.Context, principalID, roleDefinitionID string) (RoleAssignment, error)
	// DeleteRoleAssignment is DELETE /roleManagement/directory/roleAssignments/{id}.
	DeleteRoleAssignment(ctx context.Context, assignmentID string) error
}
