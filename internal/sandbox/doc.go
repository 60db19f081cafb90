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
// named by SignInAs; refresh tokens) and Entra's AADSTS error bodies. The
// tenant may be named by id or verified domain; "organizations"/"common"
// work for user flows.
//
// Graph (/v1.0): organization, me (+memberOf, transitiveMemberOf and their
// directoryRole casts), users/{id}, applications (CRUD, alternate key,
// addPassword, removePassword, addKey, removeKey, $count), servicePrincipals
// (CRUD, alternate key, appRoleAssignedTo, appRoleAssignments,
// oauth2PermissionGrants), oauth2PermissionGrants, roleManagement/directory
// roleAssignments and roleDefinitions, directoryRoles,
// directoryRoleTemplates and $batch. Query options: $filter (eq, in,
// startswith, any(), and/or; ne, not and endswith only as advanced
// queries), $select, $top/$skiptoken paging, $count and $search with
// ConsistencyLevel, $orderby on displayName. Request bodies (gzip or plain)
// are checked against the Graph type definitions in schema/.
//
// Faults (Options, SetFaults, Inject, /_sandbox/faults, /_sandbox/inject):
// latency, every Nth Graph request throttled (429) or failed (503),
// replication delay, injected failures, and after-commit actions that serve
// a request and then hold its response until released (/_sandbox/held,
// /_sandbox/release) or drop the connection; each is recorded in Requests().
//
// Where Microsoft documents neither the status nor the wording of an error,
// the sandbox follows observed captures (see endpoints.md §8) and otherwise
// Entra's generic "Invalid value specified for property '…' of resource
// '…'." form. Messages without a public source: removePassword/removeKey
// with an unknown keyId, an invalid addKey proof, passwordCredentials in a
// POST/PATCH, the $batch envelope errors, and an OData cast on
// transitiveMemberOf without ConsistencyLevel. Not emulated: the browser
// (authorization code) flow, groups, administrative units, deleted items,
// owners endpoints, beta.
//
// The package uses only the standard library on the wire; it must never
// import graph/ or msgraph-sdk-go.
package sandbox
