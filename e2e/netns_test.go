package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// realHosts are the names the private /etc/hosts maps to loopback: the
// sign-in and Graph hosts of the global, US Government (L4, L5/DoD) and
// China clouds, their alternative sign-in hosts, and the management hosts
// (so that a stray request to one fails here instead of going anywhere).
var realHosts = []string{
	"login.microsoftonline.com", "graph.microsoft.com",
	"login.microsoftonline.us", "graph.microsoft.us", "dod-graph.microsoft.us", "login.usgovcloudapi.net",
	"login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn", "login.partner.microsoftonline.cn",
	"management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn",
}

func inNetns() bool { return os.Getenv(netnsEnv) == "1" }

func TestMain(m *testing.M) {
	// Started under the name xdg-open (a symlink on PATH, see
	// browser_test.go), the test binary is the stand-in browser: it signs in
	// on the page it is asked to open instead of running tests.
	if filepath.Base(os.Args[0]) == xdgOpen {
		os.Exit(runBrowser(os.Args[1:]))
	}
	if inNetns() {
		if err := prepareNetns(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: prepare the network namespace:", err)
			os.Exit(2)
		}
	}
	code := m.Run()
	removeBuilt()
	os.Exit(code)
}

// prepareNetns refuses to run unless the process sees nothing but a
// loopback interface, brings lo up and bind-mounts a private /etc/hosts
// over the real one (the mount namespace is private: the host's file is
// untouched).
func prepareNetns() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("interface %s is not loopback: not inside a private network namespace", i.Name)
		}
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %w: %s", err, out)
	}
	dir, err := os.MkdirTemp("", "e2e-hosts-")
	if err != nil {
		return fmt.Errorf("create hosts directory: %w", err)
	}
	hosts := filepath.Join(dir, "hosts")
	content := "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + strings.Join(realHosts, " ") + "\n"
	if err := os.WriteFile(hosts, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	if err := syscall.Mount(hosts, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mount %s on /etc/hosts: %w", hosts, err)
	}
	for _, h := range realHosts {
		addrs, err := net.LookupHost(h)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", h, err)
		}
		if len(addrs) == 0 || addrs[0] != "127.0.0.1" {
			return fmt.Errorf("%s resolves to %v, want 127.0.0.1", h, addrs)
		}
	}
	return nil
}

// netnsUnavailable says why a private namespace cannot be made here ("" if
// it can).
func netnsUnavailable() string {
	if os.Geteuid() != 0 {
		return "it needs root for unshare --net --mount (CI runs as root)"
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (util-linux, iproute2; `make test` installs them on Debian)"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "unshare", "--net", "--mount", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("unshare --net --mount does not work here: %v %s", err, bytes.TrimSpace(out))
	}
	return ""
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
	if reason := netnsUnavailable(); reason != "" {
		skipLoudly(t, reason)
	}
	cli, hooks, sb := binaries(t)
	run := "^TestNetns"
	if r := os.Getenv("ENTRA_LINK_E2E_RUN"); r != "" {
		run = r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--", os.Args[0],
		"-test.run", run, "-test.v", "-test.count=1", "-test.timeout=24m")
	cmd.Env = append(os.Environ(), netnsEnv+"=1", binEnv+"="+cli, hooksBinEnv+"="+hooks, sandboxBinEnv+"="+sb)
	cmd.Dir = moduleRoot(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ran, failed []string
	for sc.Scan() {
		l := sc.Text()
		t.Log(l)
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "--- FAIL: "); ok {
			failed = append(failed, strings.Fields(name)[0])
		}
		if name, ok := strings.CutPrefix(l, "=== RUN   "); ok && !strings.Contains(name, "/") {
			ran = append(ran, name)
		}
	}
	if len(ran) == 0 {
		t.Fatalf("no test ran inside the network namespace (err %v)", err)
	}
	if err != nil {
		t.Fatalf("inside the network namespace, %d of %d tests failed: %s (%v)", len(failed), len(ran), strings.Join(failed, ", "), err)
	}
}
