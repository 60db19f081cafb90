package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/entra-link/entra-link/internal/output"
)

// TestEarlyOutputFileSaysTheRunGoesOn: the result written to --output-file
// the moment a secret exists says the run has not finished (a run killed
// after it leaves a file that does not read as a finished setup); the end
// of the run rewrites it without that.
func TestEarlyOutputFileSaysTheRunGoesOn(t *testing.T) {
	f, _ := testFactory(nil)
	file := filepath.Join(t.TempDir(), "out.json")
	e := &earlyDelivery{f: f, t: &TenantOptions{Output: output.FormatJSON, OutputFile: file}}
	r := &output.Result{Profile: "entitle", Cloud: "global", TenantID: "t", ClientID: "c", ClientSecret: "s3cret", DisplayName: "Entitle"}
	read := func() map[string]any {
		t.Helper()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		return m
	}
	e.hold(r)
	m := read()
	if m["clientSecret"] != "s3cret" || m["error"] != stillRunning {
		t.Errorf("early file: secret %v, error %v", m["clientSecret"], m["error"])
	}
	if r.Error != "" {
		t.Errorf("the run's own result was changed: %q", r.Error)
	}
	if err := e.final(r); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["clientSecret"] != "s3cret" || m["error"] != nil {
		t.Errorf("final file: secret %v, error %v", m["clientSecret"], m["error"])
	}
}
