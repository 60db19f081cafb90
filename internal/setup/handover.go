package setup

import (
	"strings"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// handoverVars are the values a profile's hand-over fields and next steps
// may use. A value the run does not have is absent — never made up: a
// kept secret's value cannot be read back, so clientSecret exists only
// when this run created the secret.
func handoverVars(res *output.Result, c cloud.Cloud, keptSecret, keptCert *CredentialInfo) map[string]string {
	v := map[string]string{
		"clientId":      res.ClientID,
		"tenantId":      res.TenantID,
		"tenantDomain":  res.TenantDomain,
		"cloud":         c.Name,
		"cloudTitle":    c.Title,
		"displayName":   res.DisplayName,
		"authorityHost": c.AuthorityHost,
		"graphEndpoint": c.GraphEndpoint,
		// The audience of an app-only Exchange Online token in this cloud
		// (sources in the cloud package).
		"exchangeResource": c.ExchangeResource,
	}
	switch {
	case res.ClientSecret != "":
		v["clientSecret"] = res.ClientSecret
		if res.ClientSecretExpiresAt != nil {
			v["clientSecretExpiresAt"] = res.ClientSecretExpiresAt.Format("2006-01-02")
		}
	case keptSecret != nil:
		v["clientSecretExpiresAt"] = keptSecret.End.UTC().Format("2006-01-02")
	}
	switch {
	case res.CertificateThumbprint != "":
		v["certificateThumbprint"] = res.CertificateThumbprint
		if res.CertificateExpiresAt != nil {
			v["certificateExpiresAt"] = res.CertificateExpiresAt.Format("2006-01-02")
		}
	case keptCert != nil:
		v["certificateThumbprint"] = keptCert.Thumbprint
		v["certificateExpiresAt"] = keptCert.End.UTC().Format("2006-01-02")
	}
	for k, s := range v {
		if s == "" {
			delete(v, k)
		}
	}
	return v
}

// render fills a template; ok is false when a value it uses is missing.
func render(t string, vars map[string]string, values map[string][]string) (string, bool) {
	ok := true
	out := profile.Render(t, func(name string) string {
		if v, found := vars[name]; found {
			return v
		}
		if v := values[name]; len(v) > 0 {
			return strings.Join(v, ", ")
		}
		ok = false
		return ""
	})
	return out, ok
}

// fillHandover renders the product's hand-over fields and next steps. A
// field or next step that needs a value the run does not have is left out.
func fillHandover(res *output.Result, s *profile.Spec, env *Env, keptSecret, keptCert *CredentialInfo) {
	vars := handoverVars(res, env.Cloud, keptSecret, keptCert)
	// The flags that make a suggested entra-link command reach this same
	// tenant; empty for the defaults, and present even then.
	vars["commandFlags"] = strings.TrimPrefix(env.Command(), "entra-link")
	h := &output.Handover{}
	for _, f := range s.Profile.Handover.Fields {
		v, ok := render(f.Value, vars, s.Values)
		if !ok {
			continue
		}
		h.Fields = append(h.Fields, output.HandoverField{Label: f.Label, Value: v, Secret: strings.Contains(f.Value, "{{clientSecret}}")})
	}
	res.Handover = h
	res.HandoverFormat = s.Profile.Handover.Format
	res.NextSteps = nil
	for _, n := range s.Profile.Handover.NextSteps {
		if v, ok := render(n, vars, s.Values); ok {
			res.NextSteps = append(res.NextSteps, v)
		}
	}
}
