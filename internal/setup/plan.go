// Package setup plans and applies an app registration for a product
// profile: preflight, find-or-create the app, its service principal, the
// credential, admin consent and directory roles — idempotently — and the
// day-2 operations on such apps.
package setup

import (
	"fmt"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Plan actions: the stable names in dry-run JSON ("plan") and run JSON ("steps").
const (
	ActCheckDomain       = "check-verified-domain"
	ActFindOrCreateApp   = "find-or-create-app"
	ActCreateApp         = "create-app"
	ActUpdateApp         = "update-app"
	ActAddPermission     = "add-permission"
	ActServicePrincipal  = "create-service-principal"
	ActAddSecret         = "add-client-secret"
	ActUploadCertificate = "upload-certificate"
	ActGenerateCert      = "generate-certificate"
	ActGrantAppRole      = "grant-admin-consent"
	ActGrantDelegated    = "grant-delegated-consent"
	ActAssignRole        = "assign-directory-role"
)

// PermissionTarget names a permission in plan targets: "Microsoft Graph · application · User.Read.All".
func PermissionTarget(p profile.Permission) string {
	return fmt.Sprintf("%s · %s · %s", p.Resource, p.Type, p.Name)
}

// OfflinePlan is what setup would do in a tenant where nothing exists yet:
// the dry-run plan, computed without signing in.
func OfflinePlan(s *profile.Spec, now time.Time) []output.Step {
	var steps []output.Step
	add := func(action, target string) { steps = append(steps, output.Step{Action: action, Target: target}) }
	for _, h := range s.VerifiedDomainHosts {
		add(ActCheckDomain, h+" must be a verified domain of the tenant")
	}
	if s.AppID != "" {
		add(ActUpdateApp, fmt.Sprintf("app %s, as %q", s.AppID, s.DisplayName))
	} else {
		add(ActFindOrCreateApp, fmt.Sprintf("%q (%s, tags %s)", s.DisplayName, s.Audience, strings.Join(s.Tags, ", ")))
	}
	if len(s.IdentifierURIs) > 0 {
		add("set-identifier-uris", strings.Join(s.IdentifierURIs, ", "))
	}
	if len(s.RedirectURIs) > 0 {
		t := "web: " + strings.Join(s.RedirectURIs, ", ")
		if s.IDTokenIssuance != nil && !*s.IDTokenIssuance {
			t += " (ID token issuance off)"
		}
		add("set-redirect-uris", t)
	}
	for _, p := range s.Permissions {
		add(ActAddPermission, PermissionTarget(p))
	}
	add(ActServicePrincipal, fmt.Sprintf("enterprise application for %q", s.DisplayName))
	switch s.Credential {
	case profile.CredentialSecret:
		end := s.SecretExpiry.AddTo(now)
		add(ActAddSecret, fmt.Sprintf("expires %s (%s), unless a valid one exists", end.Format("2006-01-02"), s.SecretExpiry.Human()))
	case profile.CredentialCertificate:
		if s.CertificateFile != "" {
			add(ActUploadCertificate, s.CertificateFile+" (public part only, kept with the app's other certificates)")
		} else {
			add(ActGenerateCert, "RSA 2048 key pair and self-signed certificate in "+s.CertificateOut+", then upload the certificate")
		}
	}
	var scopes = map[string][]string{}
	var resources []string
	for _, p := range s.Permissions {
		if p.Type == catalog.Application {
			add(ActGrantAppRole, fmt.Sprintf("%s · %s", p.Resource, p.Name))
			continue
		}
		if _, ok := scopes[p.Resource]; !ok {
			resources = append(resources, p.Resource)
		}
		scopes[p.Resource] = append(scopes[p.Resource], p.Name)
	}
	for _, r := range resources {
		add(ActGrantDelegated, fmt.Sprintf("%s · %s (for all users)", r, strings.Join(scopes[r], " ")))
	}
	for _, r := range s.Roles {
		add(ActAssignRole, r.Name)
	}
	return steps
}

// DryRunResult is the design.md §4 object for a dry run: ids omitted,
// nothing consented or assigned, plus the plan.
func DryRunResult(s *profile.Spec, c cloud.Cloud, now time.Time) *output.Result {
	r := &output.Result{
		DryRun:      true,
		Profile:     s.Profile.ID,
		Product:     s.Profile.Product,
		Cloud:       c.Name,
		DisplayName: s.DisplayName,
		ClientID:    s.AppID,
		Plan:        OfflinePlan(s, now),
	}
	r.Permissions, r.DirectoryRoles = Statuses(s)
	return r
}

// Statuses lists the spec's permissions and roles, none consented/assigned.
func Statuses(s *profile.Spec) ([]output.PermissionStatus, []output.RoleStatus) {
	perms := make([]output.PermissionStatus, 0, len(s.Permissions))
	for _, p := range s.Permissions {
		perms = append(perms, output.PermissionStatus{Resource: p.Resource, Type: string(p.Type), Name: p.Name, Description: p.DisplayName})
	}
	roles := make([]output.RoleStatus, 0, len(s.Roles))
	for _, r := range s.Roles {
		roles = append(roles, output.RoleStatus{Name: r.Name})
	}
	return perms, roles
}
