//go:build clients

package clienttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// graphAppID is Microsoft Graph's well-known appId (ids.json).
const graphAppID = "00000003-0000-0000-c000-000000000000"

// requireClients says that every client must be present: CI sets it
// (.ci/run exports ENTRA_LINK_REQUIRE_CLIENTS=1, and CI=true is set by the
// CI runner), so a client that failed to install fails the run instead of
// skipping quietly.
func requireClients() bool {
	return os.Getenv("ENTRA_LINK_REQUIRE_CLIENTS") == "1" || os.Getenv("CI") == "true"
}

// missing skips the test for a client that is not installed, or fails it
// when clients are required.
func missing(t *testing.T, why string) {
	t.Helper()
	if requireClients() {
		t.Fatalf("%s (clients are required here: run clienttest/install.sh)", why)
	}
	t.Skip(why + " (run make test-clients)")
}

// binEnv passes the entra-link binary built outside the namespace to the
// tests inside it.
const binEnv = "ENTRA_LINK_CLIENTTEST_BIN"

// buildEntraLink builds cmd/entra-link into dir.
func buildEntraLink(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "entra-link")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/entra-link")
	cmd.Dir = filepath.Dir(moduleDir(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/entra-link: %v\n%s", err, out)
	}
	return bin
}

// entraLinkBinary is the binary TestRealHostnames built.
func entraLinkBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(binEnv)
	if bin == "" {
		t.Fatalf("%s is not set: TestRealHostnames builds the binary before entering the namespace", binEnv)
	}
	return bin
}

// tenantState is the part of /_sandbox/state the tests read.
type tenantState struct {
	AppRoleAssignments []struct {
		PrincipalID         string `json:"principalId"`
		ResourceDisplayName string `json:"resourceDisplayName"`
		AppRole             string `json:"appRole"`
	} `json:"appRoleAssignments"`
}

// sandboxState reads the tenant through the sandbox's inspection API.
func sandboxState(t *testing.T, s *sandbox.Server) tenantState {
	t.Helper()
	resp, err := sandboxtest.Client(s).Get(s.URL() + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st tenantState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode /_sandbox/state: %v", err)
	}
	return st
}

// moduleDir is the directory of this package (node scripts, node_modules).
func moduleDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the clienttest directory")
	}
	return filepath.Dir(file)
}

// requestsSince returns the sandbox requests recorded after the first n.
func requestsSince(s *sandbox.Server, n int) []sandbox.RequestRecord {
	all := s.Requests()
	if n > len(all) {
		return nil
	}
	return all[n:]
}

// sawRequest reports whether one of recs matches method, a path prefix and
// status (0 = any status).
func sawRequest(recs []sandbox.RequestRecord, method, pathPrefix string, status int) bool {
	for _, r := range recs {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) && (status == 0 || r.Status == status) {
			return true
		}
	}
	return false
}

// formatRequests renders a request log for failure messages (the log never
// holds secrets: the sandbox records method, host, path and status only).
func formatRequests(recs []sandbox.RequestRecord) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "\n  %s %s%s → %d", r.Method, r.Host, r.Path, r.Status)
	}
	return b.String()
}

// runJSON runs a client script that prints one JSON object on its last
// stdout line, and decodes it. Stderr and earlier stdout lines are kept for
// the failure message; they never contain secrets because the scripts
// print token lengths and claims, not tokens.
func runJSON(t *testing.T, timeout time.Duration, env []string, name string, args ...string) (map[string]any, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = moduleDir(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String())
	log := "stdout:\n" + out + "\nstderr:\n" + stderr.String()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, log)
	}
	lines := strings.Split(out, "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("%s: last stdout line is not JSON: %v\n%s", name, err, log)
	}
	return res, log
}
