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
)

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
