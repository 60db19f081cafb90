package cli

import (
	"strings"
	"testing"
	"time"
)

// TestRotateWizardAccessible: rotate-secret without flags picks the app
// from the ones entra-link made, then lifetime and retirement, through the
// accessible prompts, against a sandbox tenant.
func TestRotateWizardAccessible(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID, oldKey := str(res, "clientId"), str(res, "clientSecretKeyId")
	// the cloud (Enter: global), app 1, lifetime 2 (6 months), retire the
	// old secret, add it, leave
	r := tt.runTerminal("\n1\n2\ny\ny\n\n", nil, "rotate-secret", "--auth", "env", "--accessible", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	j := decode(t, r.stdout)
	if str(j, "clientId") != appID || str(j, "clientSecretKeyId") == oldKey || str(j, "clientSecret") == "" {
		t.Errorf("result %v", j)
	}
	exp, err := time.Parse(time.RFC3339, str(j, "clientSecretExpiresAt"))
	if left := time.Until(exp); err != nil || left < 170*24*time.Hour || left > 190*24*time.Hour {
		t.Errorf("expiry %v (%v), want about 6 months", exp, err)
	}
	mustContain(t, "stderr", r.stderr, "Which app gets a new client secret?", "roger365", "Retire the old secrets once the new one works?",
		"✓ Check the new client secret works", "✓ Remove client secret")
	st := tt.state()
	app := st.Applications[st.app(t, appID)]
	if len(app.PasswordCredentials) != 1 || app.PasswordCredentials[0].KeyID != str(j, "clientSecretKeyId") {
		t.Errorf("secrets after retiring the old one: %+v", app.PasswordCredentials)
	}
}

// TestRotateWizardNoApps: nothing to pick is bad input, not a question.
func TestRotateWizardNoApps(t *testing.T) {
	tt := newTenant(t)
	r := tt.runTerminal("\n", nil, "rotate-secret", "--auth", "env", "--accessible")
	if r.code != 2 || !strings.Contains(r.stderr, "no apps made by entra-link") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}
