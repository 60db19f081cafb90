package cli

import (
	"encoding/json"
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
