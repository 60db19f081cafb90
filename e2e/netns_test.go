package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/netnstest"
)

// The production-path suite runs the real binary as a runbook does: no
// --sandbox, no injected transport, `--auth env` with AZURE_* variables and
// SSL_CERT_FILE, against `entra-link sandbox` reached under the real
// Microsoft host names. For that, TestProductionPath re-executes this test
// binary inside a private network and mount namespace (unshare --net
// --mount) that has only a loopback interface and a private /etc/hosts
// mapping the Microsoft login and Graph host names of all four clouds to
// 127.0.0.1, where the sandbox listens on port 443. Nothing in there can
// reach any other address. Inside, only the TestNetns* tests run.

const netnsEnv = "ENTRA_LINK_E2E_NETNS"

func inNetns() bool { return netnstest.Inside(netnsEnv) }

func TestMain(m *testing.M) {
	// Started under the name xdg-open (a symlink on PATH, see
	// browser_test.go), the test binary is the stand-in browser: it signs in
	// on the page it is asked to open instead of running tests.
	if filepath.Base(os.Args[0]) == xdgOpen {
		os.Exit(runBrowser(os.Args[1:]))
	}
	if inNetns() {
		if err := netnstest.Prepare(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: prepare the network namespace:", err)
			os.Exit(2)
		}
	}
	code := m.Run()
	removeBuilt()
	os.Exit(code)
}

// skipLoudly skips with the reason on stderr too: `go test` hides a
// passing package's log, and a suite that silently did not run is the
// failure this suite exists to prevent.
func skipLoudly(t *testing.T, reason string) {
	t.Helper()
	fmt.Fprintf(os.Stderr, "\n*** e2e: SKIPPING the production-path suite (%s): %s ***\n\n", t.Name(), reason)
	t.Skip(reason)
}

// TestProductionPath runs the TestNetns* tests inside a fresh network and
// mount namespace. ENTRA_LINK_E2E_RUN narrows them (a -test.run pattern).
func TestProductionPath(t *testing.T) {
	if inNetns() {
		t.Skip("already inside the namespace")
	}
	if testing.Short() {
		skipLoudly(t, "-short: it builds the binary and runs every command")
	}
	if reason := netnstest.Unavailable(); reason != "" {
		skipLoudly(t, reason)
	}
	cli, hooks, sb := binaries(t)
	run := "^TestNetns"
	if r := os.Getenv("ENTRA_LINK_E2E_RUN"); r != "" {
		run = r
	}
	r := netnstest.Run(moduleRoot(t), netnsEnv, []string{binEnv + "=" + cli, hooksBinEnv + "=" + hooks, sandboxBinEnv + "=" + sb}, run, 24*time.Minute)
	for _, l := range r.Lines {
		t.Log(l)
	}
	ran, failed, err := r.Ran, r.Failed, r.Err
	if len(ran) == 0 {
		t.Fatalf("no test ran inside the network namespace (err %v)", err)
	}
	if err != nil {
		t.Fatalf("inside the network namespace, %d of %d tests failed: %s (%v)", len(failed), len(ran), strings.Join(failed, ", "), err)
	}
}
