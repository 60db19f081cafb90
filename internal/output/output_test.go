package output

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func result() *Result {
	exp := now.AddDate(1, 0, 0)
	return &Result{
		Profile: "entitle", Product: "Entitle", Cloud: "global", TenantID: "tid", DisplayName: "Entitle",
		ClientID: "cid", ClientSecret: "s3cr~et'x", ClientSecretExpiresAt: &exp,
		Permissions:    []PermissionStatus{{Resource: "Microsoft Graph", Type: "application", Name: "Directory.ReadWrite.All", Consented: true}},
		Handover:       &Handover{Fields: []HandoverField{{Label: "client_id", Value: "cid"}, {Label: "secret", Value: "s3cr~et'x", Secret: true}, {Label: "tenant", Value: "tid"}}},
		HandoverFormat: "json",
		NextSteps:      []string{"Paste it into Entitle."},
	}
}

func TestHandoverJSONKeepsOrder(t *testing.T) {
	var b bytes.Buffer
	if err := RenderHandover(&b, result()); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"client_id\": \"cid\",\n  \"secret\": \"s3cr~et'x\",\n  \"tenant\": \"tid\"\n}\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	r := result()
	r.HandoverFormat = "text"
	b.Reset()
	_ = RenderHandover(&b, r)
	if b.String() != "client_id: cid\nsecret: s3cr~et'x\ntenant: tid\n" {
		t.Errorf("text handover %q", b.String())
	}
	if err := RenderHandover(&b, &Result{}); err == nil {
		t.Error("handover without values should fail")
	}
}

func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := RenderJSON(&b, result()); err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b.Bytes(), &obj); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"profile", "cloud", "tenantId", "displayName", "clientId", "clientSecret", "clientSecretExpiresAt", "permissions", "directoryRoles", "handover"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("JSON lacks %s", k)
		}
	}
	for _, k := range []string{"certificateThumbprint", "consentUrl", "plan", "sandbox", "error"} {
		if _, ok := obj[k]; ok {
			t.Errorf("JSON has %s although it does not apply", k)
		}
	}
	if obj["clientSecretExpiresAt"] != "2027-11-21T10:00:00Z" {
		t.Errorf("expiry %v", obj["clientSecretExpiresAt"])
	}
	if h := obj["handover"].(map[string]any); h["secret"] != "s3cr~et'x" {
		t.Errorf("handover %v", h)
	}
	if roles, ok := obj["directoryRoles"].([]any); !ok || len(roles) != 0 {
		t.Errorf("directoryRoles should be [] not null: %v", obj["directoryRoles"])
	}
}

func TestEnvQuoting(t *testing.T) {
	var b bytes.Buffer
	r := result()
	r.Cloud, r.AuthorityHost = "usgov", "https://login.microsoftonline.us"
	if err := RenderEnv(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "AZURE_TENANT_ID=tid\nAZURE_CLIENT_ID=cid\nAZURE_CLIENT_SECRET='s3cr~et'\\''x'\nAZURE_AUTHORITY_HOST=https://login.microsoftonline.us\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	_ = RenderEnv(&b, &Result{TenantID: "t", ClientID: "c", CertificateBundlePath: "/tmp/x.bundle.pem"})
	if !strings.Contains(b.String(), "AZURE_CLIENT_CERTIFICATE_PATH=/tmp/x.bundle.pem") || strings.Contains(b.String(), "SECRET") {
		t.Errorf("certificate env %q", b.String())
	}
	// A relative path (--certificate-out ./h2r) is made absolute and a
	// space in it quoted: the variables are sourced elsewhere.
	b.Reset()
	_ = RenderEnv(&b, &Result{TenantID: "t", ClientID: "c", CertificateBundlePath: "my certs/x.bundle.pem"})
	wd, _ := os.Getwd()
	want = "AZURE_CLIENT_CERTIFICATE_PATH='" + filepath.Join(wd, "my certs", "x.bundle.pem") + "'\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("certificate env %q, want it to contain %q", b.String(), want)
	}
}

func TestTextOutcome(t *testing.T) {
	var b bytes.Buffer
	r := result()
	r.Sandbox = true
	r.ConsentURL = "https://portal.azure.com/#x"
	if err := RenderText(&b, r, Style{}, now); err != nil {
		t.Fatal(err)
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	for _, w := range []string{"SANDBOX", "Entitle is set up", `"client_id": "cid"`, "shown only this once", "expires on 2027-11-21 (in 365 days)",
		"✓ Microsoft Graph · application · Directory.ReadWrite.All", "Admin consent is still needed", "https://portal.azure.com/#x", "1. Paste it into Entitle."} {
		if !strings.Contains(s, w) {
			t.Errorf("text lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "\x1b[") {
		t.Error("plain style must not emit escape codes")
	}
	b.Reset()
	_ = RenderText(&b, r, Style{Color: true}, now)
	if !strings.Contains(b.String(), "\x1b[32m✓") {
		t.Error("colour style should colour the marks")
	}
	r.Error = "interrupted"
	r.Steps = []Step{{Action: "create", Target: "app registration x", Status: StepDone},
		{Action: "create", Target: "admin consent y", Status: StepInterrupted, Outcome: "the run was stopped while this step was in flight"},
		{Action: "create", Target: "directory role z", Status: StepNotRun}}
	b.Reset()
	_ = RenderText(&b, r, Style{}, now)
	if !strings.Contains(b.String(), "only partly set up") || !strings.Contains(b.String(), "✓ create app registration x") ||
		!strings.Contains(b.String(), "! create admin consent y — interrupted: the run was stopped") || strings.Contains(b.String(), "Next steps") {
		t.Errorf("partial text:\n%s", b.String())
	}
}

// TestTextFitsAndKeyPairStep: the report fits its width (a line wider is
// one word: a URL), keeps commands whole, and a generated key pair comes
// with the step saying which file the product wants.
func TestTextFitsAndKeyPairStep(t *testing.T) {
	r := result()
	r.Product, r.Profile = "Hire2Retire", "hire2retire"
	r.NextSteps = []string{"The secret expires on 2027-11-21; renew it before then: entra-link rotate-secret --app-id 70494f6e-2c1a-4d8e-9b3a-5f6e7d8c9b0a."}
	r.PortalURL = "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/70494f6e-2c1a-4d8e-9b3a-5f6e7d8c9b0a"
	r.CertificateThumbprint = "FF9DA9E02768CEE93F008309BE01B73F88A0E48E"
	dir := "/home/admin/hire2retire-certificate"
	r.CertificatePFXPath, r.CertificateBundlePath = dir+"/hire2retire.pfx", dir+"/hire2retire.bundle.pem"
	r.CertificateKeyPath, r.CertificateCertPath = dir+"/hire2retire.key.pem", dir+"/hire2retire.cert.pem"
	for _, protected := range []bool{false, true} {
		r.CertificatePFXProtected = protected
		for _, width := range []int{60, 80} {
			var b bytes.Buffer
			if err := RenderText(&b, r, Style{Width: width}, now); err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				if len([]rune(l)) > width && strings.Contains(strings.TrimSpace(l), " ") {
					t.Errorf("width %d: line of %d columns: %q", width, len([]rune(l)), l)
				}
			}
			if width == 80 && !strings.Contains(b.String(), "\n       entra-link rotate-secret --app-id 70494f6e-2c1a-4d8e-9b3a-5f6e7d8c9b0a\n") {
				t.Errorf("width %d: the command is not whole on a line of its own:\n%s", width, b.String())
			}
			s := strings.Join(strings.Fields(b.String()), " ")
			want := "Hire2Retire signs in as this app with the private key of this certificate: give Hire2Retire the file " + dir + "/hire2retire.pfx (key and certificate, PKCS#12; it has no password)."
			if protected {
				want = strings.Replace(want, "it has no password", "its password is the one in --pfx-password-file", 1)
			}
			if !strings.Contains(s, want) || !strings.Contains(s, "If it asks for PEM, give it "+dir+"/hire2retire.bundle.pem instead.") {
				t.Errorf("no key-pair step %q:\n%s", want, b.String())
			}
		}
	}
}

// TestPlanLines: one line per step, the action padded, the detail after a dash.
func TestPlanLines(t *testing.T) {
	got := PlanLines([]Step{
		{Action: "create-or-update", Target: "app registration \"E\"", Detail: "single tenant"},
		{Action: "keep", Target: "client secret"},
	})
	want := []string{`create or update  app registration "E" — single tenant`, "keep              client secret"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestKeptSecretText: a kept secret is said in words; no value is made up.
func TestKeptSecretText(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r := &Result{Profile: "entitle", DisplayName: "Entitle", ClientID: "cid", KeptSecret: &KeptSecret{KeyID: "k", Hint: "abc", ExpiresAt: now.AddDate(1, 0, 0)},
		Handover: &Handover{Fields: []HandoverField{{Label: "client_id", Value: "cid"}}}, HandoverFormat: "json"}
	var b strings.Builder
	_ = RenderText(&b, r, Style{}, now)
	for _, w := range []string{"client secret (abc…, expires 2027-11-21) was kept", "--new-credential"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, b.String())
		}
	}
	if strings.Contains(b.String(), "shown only this once") {
		t.Errorf("a kept secret is not shown:\n%s", b.String())
	}
}
