//go:build clients

package clienttest

import (
	"strings"
	"testing"
)

func TestCmdResultRedactsSecrets(t *testing.T) {
	r := cmdResult{stdout: `{"appId": "a", "password": "s3cr3t-value", "tenant": "t"}`, stderr: `{"secretText":"other-secret"}`}
	got := r.String()
	for _, secret := range []string{"s3cr3t-value", "other-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("cmdResult.String() repeats %q: %s", secret, got)
		}
	}
	if !strings.Contains(got, `"appId": "a"`) || !strings.Contains(got, `"password": "<redacted>"`) {
		t.Errorf("cmdResult.String() = %s", got)
	}
}
