// Package sandbox is entra-link's emulated Entra tenant (design.md §5): an
// Entra authority and the slice of Microsoft Graph v1.0 that entra-link
// uses, served over TLS with Microsoft's wire formats, error bodies and
// permission checks. It is the test bed of the project's integration tests
// and the engine of `entra-link sandbox` (Serve) and `--sandbox` (Start).
//
// Authority (any path outside /v1.0 and /_sandbox): instance discovery,
// v1 and v2 openid-configuration (issuer on the requested host), JWKS, the
// v2 and v1 token endpoints (client credentials with a secret, with
// client_secret_basic, or with an RS256/PS256 certificate assertion; device
// code, auto-approved after the first poll as the seeded admin or the user
// named by SignInAs; the authorization code flow with PKCE behind a
// minimal sign-in and consent page for the tenant's users, answering the
// redirect URI by query or form_post — see authorize.go; refresh tokens)
// and Entra's AADSTS error bodies. The
// tenant may be named by id or verified domain; "organizations"/"common"
// work for user flows.
//
// Graph (/v1.0): organization, me (+memberOf, transitiveMemberOf and their
// directoryRole/group casts), users/{id}, groups (+members), applications
// (CRUD, alternate keys appId and uniqueName, the uniqueName upsert with
// Prefer: create-if-missing, addPassword, removePassword, addKey, removeKey,
// owners, appManagementPolicies/$ref, $count), servicePrincipals (CRUD,
// alternate key and upsert by appId, appRoleAssignedTo, appRoleAssignments,
// oauth2PermissionGrants), directory/deletedItems (list by cast, get,
// restore, permanent delete), policies/defaultAppManagementPolicy and
// appManagementPolicies (enforced on credentials and identifier URIs),
// oauth2PermissionGrants, roleManagement/directory roleAssignments,
// roleDefinitions and roleEligibilityScheduleInstances (+filterByCurrentUser),
// directoryRoles, directoryRoleTemplates, auditLogs/signIns and $batch; of
// beta, auditLogs/signIns only (service principal sign-ins with their
// credential key ids are beta). Query options: $filter (eq, in — at most 15
// values without advanced query parameters —, startswith, any(), and/or,
// ge/le on dates; ne, not and endswith only as advanced queries), $select,
// $top/$skiptoken paging, $count and $search with ConsistencyLevel,
// $orderby on displayName. Request bodies (gzip or plain) are checked
// against the Graph type definitions in schema/.
//
// Tenants: one sandbox may serve several (Options.Tenants, AddTenant); the
// token endpoint serves the tenant named in its path, Graph the tenant of
// the token's tid, and the bootstrap admin is multi-tenant. Users, role-
// assignable groups, PIM eligibility, policies and settings are set up
// through the administration API (admin.go; Go methods and /_sandbox/…).
// Delegated calls are allowed by the token's scopes and the user's active
// directory roles that are also in the token's wids.
//
// Azure Resource Manager (on its hosts only: management.azure.com and the
// US Government and China management hosts): GET /subscriptions (none) and
// GET /tenants with api-version, ARM's token checks — what `az login`
// needs (endpoints.md §14).
//
// Faults (Options, SetFaults, Inject, /_sandbox/faults, /_sandbox/inject):
// latency, every Nth Graph request throttled (429) or failed (503),
// replication delay, injected failures, and after-commit actions that serve
// a request and then hold its response until released (/_sandbox/held,
// /_sandbox/release) or drop the connection; each is recorded in Requests().
//
// Where Microsoft documents neither the status nor the wording of an error,
// the sandbox follows observed captures (see endpoints.md §8 and the notes
// next to each use) and otherwise Entra's generic "Invalid value specified
// for property '…' of resource '…'." form. Messages without a public
// source: removePassword/removeKey with an unknown keyId, passwordCredentials
// in a POST/PATCH, the $batch envelope errors, an OData cast on
// transitiveMemberOf without ConsistencyLevel, the code (not the message) of
// a nonDefaultUriAddition refusal, /directory/deletedItems without a cast, a
// directory role for a group that is not role-assignable. Not emulated:
// administrative units, passwords (the sign-in page asks for the user name
// only), PIM activation requests through Graph (ActivateEligibleRole stands
// in), app management policy exemptions (excludeActors), other beta
// resources.
//
// The package uses only the standard library on the wire; it must never
// import graph/ or msgraph-sdk-go.
package sandbox
