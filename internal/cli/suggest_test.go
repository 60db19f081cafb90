package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSuggestedCommandsReachTheSameTenant: the commands entra-link prints
// for later (the hand-over's next steps, rotate-secret's "retire them")
// carry the flags of this run's tenant: copied after a sandbox run they
// work on the sandbox, not against the real Entra ID.
func TestSuggestedCommandsReachTheSameTenant(t *testing.T) {
	env := map[string]string{"ENTRA_LINK_SANDBOX_DIR": t.TempDir(), "XDG_STATE_HOME": t.TempDir()}
	r := runWith(t, env, "setup", "--profile", "roger365", "--sandbox", "--output", "json")
	if r.code != 0 {
		t.Fatalf("setup: exit %d\n%s", r.code, r.stderr)
	}
	var res struct {
		ClientID string   `json:"clientId"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	// The next steps are in the text output, each command on one line.
	r = runWith(t, env, "setup", "--profile", "roger365", "--sandbox", "--app-id", res.ClientID, "--new-credential")
	want := "entra-link rotate-secret --app-id " + res.ClientID + " --sandbox"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("exit %d; the next steps lack %q:\n%s", r.code, want, r.stdout)
	}

	r = runWith(t, env, "rotate-secret", "--sandbox", "--app-id", res.ClientID, "--output", "json")
	if r.code != 0 {
		t.Fatalf("rotate-secret: exit %d\n%s", r.code, r.stderr)
	}
	res.Warnings = nil
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	want = "entra-link retire --app-id " + res.ClientID + " --sandbox"
	if !strings.Contains(strings.Join(res.Warnings, "\n"), want) {
		t.Errorf("rotate-secret's warnings lack %q:\n%s", want, strings.Join(res.Warnings, "\n"))
	}
	// Without --sandbox (the global cloud, the defaults) nothing is added.
	r = runWith(t, env, "setup", "--profile", "roger365", "--dry-run")
	if strings.Contains(r.stdout, "--sandbox") {
		t.Errorf("a dry run without --sandbox suggests --sandbox:\n%s", r.stdout)
	}
}

// TestRotateCertificateDryRunSuggestsRetireHere: the dry run of
// rotate-certificate names, for each certificate kept, the retire command
// that reaches this same tenant (here the sandbox), as the real run does.
func TestRotateCertificateDryRunSuggestsRetireHere(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ENTRA_LINK_SANDBOX_DIR": t.TempDir(), "XDG_STATE_HOME": t.TempDir()}
	r := runWith(t, env, "setup", "--profile", "hire2retire", "--sandbox", "--yes", "--certificate-out", filepath.Join(dir, "a"), "--output", "json")
	if r.code != 0 {
		t.Fatalf("setup: exit %d\n%s", r.code, r.stderr)
	}
	var res struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	r = runWith(t, env, "rotate-certificate", "--sandbox", "--app-id", res.ClientID, "--certificate-out", filepath.Join(dir, "b"), "--dry-run", "--output", "json")
	want := "entra-link retire --app-id " + res.ClientID + " --sandbox"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("exit %d; the dry run lacks %q:\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
}

// TestOutputFileIsNotAnInput: --output-file naming a file the run reads
// (the certificate to upload, the profile file), by any spelling, is bad
// input even with --force: the result would overwrite it.
func TestOutputFileIsNotAnInput(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "up.cer")
	prof := filepath.Join(dir, "p.yaml")
	for src, dst := range map[string]string{"testdata/hire2retire.cer": cert, "testdata/acme.yaml": prof} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"setup", "--profile", "hire2retire", "--certificate-file", cert, "--output-file", dir + "/./up.cer", "--force", "--dry-run"}, "--certificate-file"},
		{[]string{"setup", "--profile-file", prof, "--output-file", prof, "--force", "--dry-run"}, "--profile-file"},
		{[]string{"rotate-certificate", "--app-id", "11111111-2222-3333-4444-555555555555", "--certificate-file", cert, "--output-file", cert, "--force", "--no-input"}, "--certificate-file"},
	} {
		before := map[string][]byte{}
		for _, p := range []string{cert, prof} {
			before[p], _ = os.ReadFile(p)
		}
		r := run(t, tc.args...)
		// (Wrapped at 80 columns wherever the temporary path ends.)
		if r.code != 2 || !strings.Contains(strings.Join(strings.Fields(r.stderr), " "), "is the file of "+tc.flag) {
			t.Errorf("%v: exit %d\n%s", tc.args, r.code, r.stderr)
		}
		for p, data := range before {
			if now, _ := os.ReadFile(p); string(now) != string(data) {
				t.Errorf("%v: %s was overwritten", tc.args, p)
			}
		}
	}
}
