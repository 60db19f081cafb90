// Package output holds the result object every command reports
// (design.md §4) and its renderers: text for people, json for scripts, env
// for shells, and handover in the product's own format.
package output

import (
	"bytes"
	"encoding/json"
	"time"
)

// Formats accepted by --output.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatEnv      = "env"
	FormatHandover = "handover"
)

// Formats lists the valid --output values.
var Formats = []string{FormatText, FormatJSON, FormatEnv, FormatHandover}

// Result is the outcome of setup / rotate-secret (and the plan of a dry run).
// Field names are the contract of design.md §4.
type Result struct {
	Sandbox bool `json:"sandbox,omitempty"`
	DryRun  bool `json:"dryRun,omitempty"`

	Profile             string `json:"profile"`
	Product             string `json:"-"`
	Cloud               string `json:"cloud"`
	TenantID            string `json:"tenantId,omitempty"`
	TenantName          string `json:"tenantName,omitempty"`
	TenantDomain        string `json:"tenantDomain,omitempty"`
	DisplayName         string `json:"displayName"`
	ClientID            string `json:"clientId,omitempty"`
	ApplicationObjectID string `json:"applicationObjectId,omitempty"`
	ServicePrincipalID  string `json:"servicePrincipalId,omitempty"`

	ClientSecret          string     `json:"clientSecret,omitempty"`
	ClientSecretKeyID     string     `json:"clientSecretKeyId,omitempty"`
	ClientSecretExpiresAt *time.Time `json:"clientSecretExpiresAt,omitempty"`

	CertificateThumbprint string     `json:"certificateThumbprint,omitempty"`
	CertificateExpiresAt  *time.Time `json:"certificateExpiresAt,omitempty"`
	// Files written for a generated certificate.
	CertificateKeyPath  string `json:"certificateKeyPath,omitempty"`
	CertificateCertPath string `json:"certificateCertPath,omitempty"`
	CertificatePFXPath  string `json:"certificatePfxPath,omitempty"`
	// CertificateBundlePath holds certificate + key in one PEM, the form
	// azidentity reads from AZURE_CLIENT_CERTIFICATE_PATH.
	CertificateBundlePath string `json:"certificateBundlePath,omitempty"`
	// CertificatePFXProtected: the PFX has the password of
	// --pfx-password-file (else none).
	CertificatePFXProtected bool `json:"-"`

	// KeptSecret is the app's existing client secret that this run kept:
	// its value cannot be read back, so no output carries it.
	KeptSecret *KeptSecret `json:"keptSecret,omitempty"`

	Permissions    []PermissionStatus `json:"permissions"`
	DirectoryRoles []RoleStatus       `json:"directoryRoles"`
	ConsentURL     string             `json:"consentUrl,omitempty"`
	Handover       *Handover          `json:"handover,omitempty"`

	// Plan is the ordered steps of a dry run.
	Plan []Step `json:"plan,omitempty"`
	// Steps are the plan's steps as a real run carried them out, each with
	// its status.
	Steps []Step `json:"steps,omitempty"`
	// Placeholders are the flags whose values a dry run shows as
	// placeholders, because they were not given.
	Placeholders []string `json:"placeholders,omitempty"`
	// Warnings are things the user should know that did not stop the run.
	Warnings []string `json:"warnings,omitempty"`
	// Error is set when the run failed or was interrupted part-way.
	Error string `json:"error,omitempty"`

	// Title heads the text output ("<DisplayName> is set up" when empty).
	Title string `json:"-"`
	// NextSteps are rendered in text output only.
	NextSteps []string `json:"-"`
	// HandoverFormat is the product's own format ("text" or "json").
	HandoverFormat string `json:"-"`
	// AuthorityHost is set for non-global clouds (env output).
	AuthorityHost string `json:"-"`
	// PortalURL links to the app in the cloud's portal (text output).
	PortalURL string `json:"-"`
}

// PermissionStatus is one permission and whether it is consented.
type PermissionStatus struct {
	Resource    string `json:"resource"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Consented   bool   `json:"consented"`
	Description string `json:"-"`
}

// RoleStatus is one directory role and whether it is assigned.
type RoleStatus struct {
	Name     string `json:"name"`
	Assigned bool   `json:"assigned"`
}

// KeptSecret describes an existing client secret a run kept, without its value.
type KeptSecret struct {
	KeyID     string    `json:"keyId"`
	Hint      string    `json:"hint,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Step statuses.
const (
	StepDone    = "done"
	StepSkipped = "skipped" // nothing to do: kept as it is
	StepFailed  = "failed"
	StepNotRun  = "not-run"
	StepPending = "pending" // needs an admin action (consent URL)
	// StepInterrupted: the step was in flight when the run was cancelled
	// (Ctrl-C, SIGTERM); whether it took effect is for the next run to see.
	StepInterrupted = "interrupted"
	// StepOK and StepProblem are the outcomes of a check (a precondition).
	StepOK      = "ok"
	StepProblem = "problem"
)

// Step is one step of a plan: planned (dry run) or carried out (with a status).
type Step struct {
	// Action is create, update, keep, remove, extra, check or (offline,
	// when the tenant was not read) create-or-update.
	Action string `json:"action"`
	// Kind says what the step acts on: app, client-secret, admin-consent, …
	Kind   string `json:"kind,omitempty"`
	Target string `json:"target"`
	// Detail is the exact change (update), why (keep, extra), or what is
	// checked (check).
	Detail string `json:"detail,omitempty"`
	// Round: steps of one round run concurrently; round 0 runs on this
	// machine, before anything in the tenant is changed.
	Round  int    `json:"round"`
	Status string `json:"status,omitempty"`
	// Outcome says what came of the step: the id created, the error, why it
	// did not run.
	Outcome string `json:"outcome,omitempty"`
}

// Handover is an ordered label → value map: the values the product needs
// under the product's own labels, in the guide's order.
type Handover struct {
	Fields []HandoverField
}

// HandoverField is one labelled value.
type HandoverField struct {
	Label  string
	Value  string
	Secret bool
}

// MarshalJSON writes the fields as one object, keeping their order.
func (h *Handover) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range h.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Label)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// HasSecret reports whether the result carries a secret value.
func (r *Result) HasSecret() bool { return r.ClientSecret != "" }
