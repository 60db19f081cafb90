package profile

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const validProfile = `id: acme
product: ACME
description: ACME's connector.
displayName: ACME
permissions:
  - resource: Microsoft Graph
    application: [User.Read.All]
handover:
  fields:
    - label: Client ID
      value: "{{clientId}}"
    - label: Secret
      value: "{{clientSecret}}"
`

func TestParseValid(t *testing.T) {
	p, err := Parse([]byte(validProfile), "acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Credential.Default != CredentialSecret || p.Audience.Default != AudienceSingleTenant || p.Handover.Format != "text" {
		t.Errorf("defaults not applied: %+v %+v %s", p.Credential, p.Audience, p.Handover.Format)
	}
	if p.Credential.SecretExpiry.String() != "1y" || p.Credential.MaxSecretExpiry.String() != "2y" {
		t.Errorf("default lifetimes: %s / %s", p.Credential.SecretExpiry, p.Credential.MaxSecretExpiry)
	}
}

// TestParseErrors: every malformed profile is rejected with the file, the
// line and the field at fault.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int
		want []string // fragments of the message
	}{
		{"empty", "", 0, []string{"the file is empty"}},
		{"not yaml", "id: [unclosed\n", 1, []string{"not valid YAML"}},
		{"tab indentation", "id: a\n\tproduct: b\n", 2, []string{"not valid YAML"}},
		{"not a mapping", "- a\n- b\n", 1, []string{"expected a mapping"}},
		{"unknown top field", strings.Replace(validProfile, "displayName:", "dispalyName:", 1), 4, []string{"dispalyName: unknown field", `did you mean "displayName"`}},
		{"missing id", strings.Replace(validProfile, "id: acme\n", "", 1), 1, []string{"id: is required"}},
		{"bad id", strings.Replace(validProfile, "id: acme", "id: ACME Corp", 1), 1, []string{"id:", "not a valid profile id"}},
		{"unknown permission", strings.Replace(validProfile, "User.Read.All]", "User.Read.Al]", 1), 7, []string{"permissions[0].application[0]", `did you mean "User.Read.All"`}},
		{"delegated-only as application", strings.Replace(validProfile, "User.Read.All]", "offline_access]", 1), 7, []string{"permissions[0].application[0]", "exists only as a delegated permission"}},
		{"application-only as delegated", strings.Replace(validProfile, "application: [User.Read.All]", "delegated: [Device.ReadWrite.All]", 1), 7, []string{"permissions[0].delegated[0]", "exists only as an application permission"}},
		{"unknown resource", strings.Replace(validProfile, "resource: Microsoft Graph", "resource: SharePoint", 1), 6, []string{"permissions[0].resource", "unknown resource", "Microsoft Graph"}},
		{"duplicate permission", strings.Replace(validProfile, "[User.Read.All]", "[User.Read.All, User.Read.All]", 1), 7, []string{"listed twice"}},
		{"no permissions", strings.Replace(validProfile, "permissions:\n  - resource: Microsoft Graph\n    application: [User.Read.All]\n", "", 1), 1, []string{"at least one permission"}},
		{"permission list is a map", strings.Replace(validProfile, "application: [User.Read.All]", "application: {a: b}", 1), 7, []string{"permissions[0].application", "expected a list"}},
		{"unknown role", validProfile + "directoryRoles: [User Admin]\n", 14, []string{"directoryRoles[0]", `did you mean "User Administrator"`}},
		{"bad credential", validProfile + "credential:\n  default: password\n", 15, []string{"credential.default", "valid values: secret, certificate, none"}},
		{"default not allowed", validProfile + "credential:\n  default: certificate\n  allowed: [secret]\n", 15, []string{"credential.default", "not one of credential.allowed"}},
		{"expiry over 2y", validProfile + "credential:\n  secretExpiry: 3y\n", 15, []string{"credential.secretExpiry", "2 years"}},
		{"expiry over max", validProfile + "credential:\n  secretExpiry: 1y\n  maxSecretExpiry: 6m\n", 15, []string{"credential.secretExpiry", "longer than credential.maxSecretExpiry"}},
		{"bad lifetime", validProfile + "credential:\n  secretExpiry: soon\n", 15, []string{"credential.secretExpiry", "not a lifetime"}},
		{"bad audience", validProfile + "audience: everyone\n", 14, []string{"audience", "valid values: single-tenant, multi-tenant"}},
		{"bool as string", validProfile + "web:\n  idTokenIssuance: \"no\"\n", 15, []string{"web.idTokenIssuance", "expected true or false"}},
		{"undeclared template", validProfile + "identifierUris: [\"{{server-url}}\"]\n", 14, []string{"identifierUris[0]", "unknown value {{server-url}}"}},
		{"malformed template", strings.Replace(validProfile, `"{{clientId}}"`, `"{{clientId"`, 1), 11, []string{"handover.fields[0].value", "malformed template"}},
		{"unknown handover var", strings.Replace(validProfile, `"{{clientId}}"`, `"{{clientSecretValue}}"`, 1), 11, []string{"handover.fields[0].value", "unknown value {{clientSecretValue}}", "clientSecret"}},
		{"duplicate label", validProfile + "    - label: Client ID\n      value: \"{{tenantId}}\"\n", 14, []string{"handover.fields[2].label", "used twice"}},
		{"secret not handed over", strings.Replace(validProfile, `"{{clientSecret}}"`, `"{{tenantId}}"`, 1), 10, []string{"handover.fields", "no field hands the secret over", "{{clientSecret}}"}},
		{"no handover", strings.Split(validProfile, "handover:")[0], 1, []string{"handover.fields", "at least one field"}},
		{"bad input type", validProfile + "inputs:\n  - id: x\n    label: X\n    type: number\n", 17, []string{"inputs[0].type", "valid values: url, url-list, string"}},
		{"verifiedDomain on string", validProfile + "inputs:\n  - id: x\n    label: X\n    verifiedDomain: true\n", 17, []string{"inputs[0].verifiedDomain", "only to url"}},
		{"input shadows builtin", validProfile + "inputs:\n  - id: clientId\n    label: X\n", 15, []string{"inputs[0].id"}},
		{"duplicate key", validProfile + "product: Other\n", 14, []string{"product"}},
		{"feature without anything", validProfile + "features:\n  - id: x\n    title: X\n    description: d\n", 15, []string{"features[0]", "adds no permissions"}},
		{"feature repeats permission", validProfile + "features:\n  - id: x\n    title: X\n    description: d\n    permissions:\n      - resource: graph\n        application: [User.Read.All]\n", 19, []string{"features[0].permissions", "already requested"}},
		{"two documents", validProfile + "---\nid: other\n", 15, []string{"one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "acme.yaml")
			if err == nil {
				t.Fatal("want an error")
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v, want *FileError", err, err)
			}
			if fe.File != "acme.yaml" {
				t.Errorf("file = %q", fe.File)
			}
			if tt.line != 0 && fe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", fe.Line, tt.line, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "acme.yaml") {
				t.Errorf("message should start with the file name: %q", err)
			}
		})
	}
}

// FuzzParse: Parse never panics, and anything it accepts resolves without
// panicking either.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validProfile))
	for _, name := range []string{"relution", "hire2retire", "entitle", "unify", "roger365"} {
		data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/custom.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("id: [\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("non-FileError %T: %v", err, err)
			}
			return
		}
		values := map[string][]string{}
		for _, in := range p.Inputs {
			values[in.ID] = []string{"https://example.com/x"}
		}
		_, _ = Resolve(p, Request{Values: values, CertificateFile: "x.cer"}, now)
	})
}
