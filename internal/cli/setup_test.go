package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/shlex"
)

func TestNewCmdSetupFlags(t *testing.T) {
	tests := []struct {
		name  string
		cli   string
		check func(t *testing.T, o *SetupOptions)
	}{
		{"profile and name", "--profile entitle --name 'Entitle prod'", func(t *testing.T, o *SetupOptions) {
			if o.Profile == nil || o.Profile.ID != "entitle" || o.Name != "Entitle prod" {
				t.Errorf("profile %v name %q", o.Profile, o.Name)
			}
		}},
		{"relution server url", "-p relution --server-url https://r.contoso.com", func(t *testing.T, o *SetupOptions) {
			if got := o.Request().Values["server-url"]; !slices.Equal(got, []string{"https://r.contoso.com"}) {
				t.Errorf("server-url %v", got)
			}
		}},
		{"repeatable redirect", "--profile unify --redirect-uri https://a/cb --redirect-uri https://b/cb --audience multi-tenant", func(t *testing.T, o *SetupOptions) {
			if got := o.Request().Values["redirect-uri"]; !slices.Equal(got, []string{"https://a/cb", "https://b/cb"}) || o.Audience != "multi-tenant" {
				t.Errorf("redirects %v audience %s", got, o.Audience)
			}
		}},
		{"hire2retire", "--profile hire2retire --certificate-file h.cer --with exchange --cloud dod", func(t *testing.T, o *SetupOptions) {
			if o.CertificateFile != "h.cer" || !slices.Equal(o.With, []string{"exchange"}) || o.Cloud.Name != "usgov-dod" {
				t.Errorf("%+v", o)
			}
			if o.Cloud.GraphEndpoint != "https://dod-graph.microsoft.us" || o.Cloud.AuthorityHost != "https://login.microsoftonline.us" {
				t.Errorf("dod endpoints %+v", o.Cloud)
			}
		}},
		{"cloud aliases", "--profile entitle --cloud gcc-high", func(t *testing.T, o *SetupOptions) {
			if o.Cloud.Name != "usgov" || o.Cloud.GraphEndpoint != "https://graph.microsoft.us" {
				t.Errorf("%+v", o.Cloud)
			}
		}},
		{"china", "--profile entitle --cloud 21vianet", func(t *testing.T, o *SetupOptions) {
			if o.Cloud.Name != "china" || o.Cloud.GraphEndpoint != "https://microsoftgraph.chinacloudapi.cn" {
				t.Errorf("%+v", o.Cloud)
			}
		}},
		{"custom endpoints override --cloud", "--profile entitle --cloud china --authority-host https://login.example.net/ --graph-endpoint https://graph.example.net", func(t *testing.T, o *SetupOptions) {
			if !o.Cloud.Custom || o.Cloud.AuthorityHost != "https://login.example.net" || o.Cloud.GraphScope() != "https://graph.example.net/.default" {
				t.Errorf("%+v", o.Cloud)
			}
		}},
		{"runbook flags", "--profile roger365 --secret-expiry 6m --no-input --yes -o json --output-file out.json --tenant contoso.onmicrosoft.com --auth env --verbose", func(t *testing.T, o *SetupOptions) {
			if o.SecretExpiry != "6m" || !o.NoInput || !o.Yes || o.Output != "json" || o.OutputFile != "out.json" || o.Tenant != "contoso.onmicrosoft.com" || o.Auth != "env" || !o.Verbose {
				t.Errorf("%+v", o)
			}
		}},
		{"tenant from env", "--profile entitle", func(t *testing.T, o *SetupOptions) {
			if o.Tenant != "11111111-2222-3333-4444-555555555555" {
				t.Errorf("tenant %q", o.Tenant)
			}
		}},
		{"generic inputs", "--profile-file testdata/acme.yaml --input portal-url=https://acme.example.com", func(t *testing.T, o *SetupOptions) {
			if o.Profile == nil || o.Profile.ID != "acme-hr" || o.Request().Values["portal-url"][0] != "https://acme.example.com" {
				t.Errorf("%+v", o.Request())
			}
		}},
		{"no tty implies no-input", "--profile entitle", func(t *testing.T, o *SetupOptions) {
			if !o.NoInput {
				t.Error("stdin is not a terminal, so --no-input must be implied")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFactory(map[string]string{"AZURE_TENANT_ID": "11111111-2222-3333-4444-555555555555"})
			var got *SetupOptions
			cmd := NewCmdSetup(f, func(o *SetupOptions) error { got = o; return nil })
			args, err := shlex.Split(tt.cli)
			if err != nil {
				t.Fatal(err)
			}
			cmd.SetArgs(args)
			cmd.SetOut(f.IO.Out)
			cmd.SetErr(f.IO.ErrOut)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("execute: %v", err)
			}
			tt.check(t, got)
		})
	}
}

// TestBadInput: each bad input gets a message naming the flag and the valid
// choices, and exit code 2.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		args string
		want []string
	}{
		{"unknown profile", "setup --profile entitel --dry-run", []string{`unknown profile "entitel"`, `did you mean "entitle"`, "relution, hire2retire, entitle, unify, roger365"}},
		{"missing profile", "setup --no-input --dry-run", []string{"1 required value is missing", "--profile", "relution, hire2retire"}},
		{"missing server url", "setup --profile relution --no-input", []string{"--server-url", "Relution server URL"}},
		{"missing redirect", "setup --profile unify --no-input", []string{"--redirect-uri", "Redirect URI"}},
		{"certificate-out is a file", "setup --profile hire2retire --certificate-out testdata/hire2retire.cer --dry-run", []string{"--certificate-out testdata/hire2retire.cer is a file"}},
		{"malformed url", "setup --profile relution --server-url ftp://x --dry-run", []string{"--server-url", "https URL"}},
		{"http url", "setup --profile relution --server-url http://r.contoso.com --dry-run", []string{"--server-url", "https"}},
		{"malformed guid", "setup --profile entitle --app-id 1234 --dry-run", []string{"--app-id", "GUID"}},
		{"malformed tenant", "setup --profile entitle --tenant 'not a tenant' --dry-run", []string{"--tenant", "GUID", "verified domain"}},
		{"malformed login client", "setup --profile entitle --login-client-id abc --dry-run", []string{"--login-client-id", "GUID"}},
		{"malformed duration", "setup --profile entitle --secret-expiry 90 --dry-run", []string{"--secret-expiry", "d (days), w (weeks), m (months) or y (years)"}},
		{"duration too long", "setup --profile entitle --secret-expiry 3y --dry-run", []string{"--secret-expiry", "at most 2 years"}},
		{"unknown feature", "setup --profile hire2retire --certificate-file x.cer --with sharepoint --dry-run", []string{"--with", `no feature "sharepoint"`, "valid features: exchange"}},
		{"unknown cloud", "setup --profile entitle --cloud mars --dry-run", []string{"--cloud", "global, usgov, usgov-dod, china"}},
		{"unknown auth", "setup --profile entitle --auth password --dry-run", []string{"--auth", "browser, device-code, azure-cli, env, managed-identity"}},
		{"unknown output", "setup --profile entitle --output yaml --dry-run", []string{"--output", "text, json, env, handover"}},
		{"profile and profile-file", "setup --profile entitle --profile-file x.yaml", []string{"profile", "profile-file"}},
		{"authority without graph", "setup --profile entitle --authority-host https://login.example.net", []string{"--authority-host and --graph-endpoint go together"}},
		{"http authority", "setup --profile entitle --authority-host http://login.example.net --graph-endpoint https://g.example.net", []string{"--authority-host", "https"}},
		{"dry-run with env output", "setup --profile entitle --dry-run --output env", []string{"--output env", "--dry-run"}},
		{"dry-run with yes", "setup --profile entitle --dry-run --yes", []string{"--dry-run and --yes"}},
		{"audience not allowed", "setup --profile relution --server-url https://r.contoso.com --audience multi-tenant --dry-run", []string{"--audience", "single-tenant"}},
		{"credential not allowed", "setup --profile entitle --credential certificate --dry-run", []string{"--credential", "allows: secret"}},
		{"input for other profile", "setup --profile entitle --server-url https://x.contoso.com --dry-run", []string{"--server-url", "profile entitle takes no server-url"}},
		{"bad --input", "setup --profile entitle --input novalue --dry-run", []string{"--input", "ID=VALUE"}},
		{"missing profile file", "setup --profile-file /nonexistent/p.yaml --dry-run", []string{"--profile-file", "/nonexistent/p.yaml"}},
		{"broken profile file", "setup --profile-file testdata/broken.yaml --dry-run", []string{"testdata/broken.yaml:7", "permissions[0].application[0]", `did you mean "User.Read.All"`}},
		{"unknown flag", "setup --profil entitle", []string{"unknown flag --profil for entra-link setup; did you mean --profile or --profile-file?"}},
		{"positional arg", "setup entitle", []string{"takes no arguments", "entitle"}},
		{"unknown command", "setpu", []string{`unknown command "setpu"`}},
		{"sandbox with auth", "setup --profile entitle --sandbox --auth browser", []string{"--sandbox", "--auth"}},
		{"rotate both selectors", "rotate-secret --app-id 11111111-2222-3333-4444-555555555555 --name x", []string{"either --app-id or --name"}},
		{"rotate no selector", "rotate-secret --no-input", []string{"--app-id or --name"}},
		{"rotate bad guid", "rotate-secret --app-id nope", []string{"--app-id", "GUID"}},
		{"rotate bad expiry", "rotate-secret --name x --secret-expiry 30x", []string{"--secret-expiry", "unknown unit"}},
		{"rotate expiry too long", "rotate-secret --name x --secret-expiry 30m", []string{"--secret-expiry", "2 years"}},
		{"verify negative warn", "verify --name x --warn-days -1", []string{"--warn-days", "want 0 to 3650 days"}},
		{"verify huge warn", "verify --name x --warn-days 99999999999", []string{"invalid value 99999999999 for --warn-days: want 0 to 3650 days"}},
		{"verify unknown profile", "verify --name x --profile nope", []string{"--profile", `unknown profile "nope"`}},
		{"verify both profiles", "verify --name x --profile entitle --profile-file p.yaml", []string{"profile", "profile-file"}},
		{"delete no selector", "delete --no-input", []string{"--app-id or --name"}},
		{"delete dry-run with yes", "delete --name x --dry-run --yes", []string{"--dry-run and --yes contradict each other"}},
		{"rotate dry-run with yes", "rotate-secret --name x --dry-run --yes", []string{"--dry-run and --yes contradict each other"}},
		{"delete bad output", "delete --name x --output env", []string{"--output", "text or json"}},
		{"profiles show unknown", "profiles show nope", []string{`unknown profile "nope"`}},
		{"profiles show none", "profiles show", []string{"which profile?", "relution"}},
		{"profiles list bad output", "profiles list -o yaml", []string{"--output", "text, json"}},
		{"sandbox no state dir", "sandbox", []string{"--state-dir is required"}},
		{"sandbox bad listen", "sandbox --state-dir x --listen nope", []string{"--listen", "HOST:PORT"}},
		{"sandbox negative", "sandbox --state-dir x --latency -1s", []string{"must not be negative"}},
		{"sandbox state dir is a file", "sandbox --state-dir /dev/null", []string{"--state-dir /dev/null is not a directory"}},
		{"sandbox state dir cannot be made", "sandbox --state-dir /dev/null/sb", []string{"--state-dir /dev/null/sb cannot be created: a part of /dev/null is not a directory"}},
		{"version bad output", "version -o xml", []string{"--output", "text, json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := shlex.Split(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2; stderr: %s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("bad input must print nothing on stdout, got %q", r.stdout)
			}
			mustContain(t, "stderr", r.stderr, tt.want...)
		})
	}
}

func TestOutputFileRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	r := run(t, "setup", "--profile", "entitle", "--dry-run", "-o", "json", "--output-file", path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("output file: %v mode %v", err, st.Mode())
	}
	r = run(t, "setup", "--profile", "entitle", "--dry-run", "-o", "json", "--output-file", path)
	if r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("second write: exit %d, stderr %s", r.code, r.stderr)
	}
	r = run(t, "setup", "--profile", "entitle", "--dry-run", "-o", "json", "--output-file", path, "--force")
	if r.code != 0 {
		t.Errorf("forced write: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestDryRunGolden: each built-in profile's resolved plan, as text and JSON.
func TestDryRunGolden(t *testing.T) {
	cases := map[string][]string{
		"relution":             {"--profile", "relution", "--server-url", "https://relution.contoso.com"},
		"hire2retire":          {"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer"},
		"hire2retire-exchange": {"--profile", "hire2retire", "--certificate-out", "./certs", "--with", "exchange", "--cloud", "usgov-dod"},
		"entitle":              {"--profile", "entitle"},
		"unify":                {"--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback", "--audience", "multi-tenant"},
		"roger365":             {"--profile", "roger365", "--secret-expiry", "6m", "--name", "ROGER365 replicator"},
		"profile-file":         {"--profile-file", "testdata/acme.yaml", "--input", "portal-url=https://acme.example.com/signin"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			text := run(t, append([]string{"setup", "--dry-run"}, args...)...)
			if text.code != 0 {
				t.Fatalf("exit %d: %s", text.code, text.stderr)
			}
			golden(t, "dryrun/"+name+".txt", text.stdout)
			js := run(t, append([]string{"setup", "--dry-run", "--output", "json"}, args...)...)
			if js.code != 0 {
				t.Fatalf("exit %d: %s", js.code, js.stderr)
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(js.stdout), &obj); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, js.stdout)
			}
			for _, k := range []string{"clientSecret", "tenantId", "applicationObjectId", "servicePrincipalId"} {
				if _, ok := obj[k]; ok {
					t.Errorf("dry run must omit %s", k)
				}
			}
			for _, p := range obj["permissions"].([]any) {
				if p.(map[string]any)["consented"] != false {
					t.Errorf("dry run permission consented: %v", p)
				}
			}
			if len(obj["plan"].([]any)) == 0 {
				t.Error("no plan")
			}
			golden(t, "dryrun/"+name+".json", js.stdout)
		})
	}
}
