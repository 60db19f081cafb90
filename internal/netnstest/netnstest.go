// Package netnstest runs a test binary's TestNetns* tests inside a private
// network and mount namespace (unshare --net --mount) that has only a
// loopback interface and a private /etc/hosts mapping the Microsoft
// sign-in, Graph and management host names of all four clouds to
// 127.0.0.1, where a sandbox listens on port 443. Unmodified programs then
// reach "login.microsoftonline.com" and "graph.microsoft.com" as in
// production, and nothing in there can reach any other address.
//
// The e2e suite (the entra-link binary) and clienttest (the Azure CLI,
// the CLI for Microsoft 365, MSAL) both use it. It is for tests only.
package netnstest

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
	"time"
)

// RealHosts are the names the private /etc/hosts maps to loopback: the
// sign-in and Graph hosts of the global, US Government (L4, L5/DoD) and
// China clouds, their alternative sign-in hosts, and the management hosts
// (so that a stray request to one fails here instead of going anywhere).
var RealHosts = []string{
	"login.microsoftonline.com", "graph.microsoft.com",
	"login.microsoftonline.us", "graph.microsoft.us", "dod-graph.microsoft.us", "login.usgovcloudapi.net",
	"login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn", "login.partner.microsoftonline.cn",
	"management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn",
}

// Inside reports whether this process was started inside the namespace by
// Run with the variable env set.
func Inside(env string) bool { return os.Getenv(env) == "1" }

// Prepare refuses to run unless the process sees nothing but a loopback
// interface, brings lo up and bind-mounts a private /etc/hosts over the
// real one (the mount namespace is private: the host's file is
// untouched), then checks that every real host name resolves to loopback.
func Prepare() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("interface %s is not loopback: not inside a private network namespace", i.Name)
		}
	}
	if out, err := exec.CommandContext(context.Background(), "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %w: %s", err, out)
	}
	dir, err := os.MkdirTemp("", "netns-hosts-")
	if err != nil {
		return fmt.Errorf("create hosts directory: %w", err)
	}
	hosts := filepath.Join(dir, "hosts")
	content := "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + strings.Join(RealHosts, " ") + "\n"
	if err := os.WriteFile(hosts, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	if err := syscall.Mount(hosts, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mount %s on /etc/hosts: %w", hosts, err)
	}
	for _, h := range RealHosts {
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), h)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", h, err)
		}
		if len(addrs) == 0 || addrs[0] != "127.0.0.1" {
			return fmt.Errorf("%s resolves to %v, want 127.0.0.1", h, addrs)
		}
	}
	return nil
}

// Unavailable says why a private namespace cannot be made here ("" if it
// can).
func Unavailable() string {
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

// Result is what the tests inside the namespace did.
type Result struct {
	// Lines is their verbose output, line by line.
	Lines []string
	// Ran and Failed are the top-level tests that ran and failed.
	Ran, Failed []string
	// Err is the test binary's exit.
	Err error
}

// Run re-executes this test binary in a fresh network and mount namespace
// with env=1 and extra in its environment, in dir, running the tests that
// match pattern (a -test.run pattern) within timeout.
func Run(dir, env string, extra []string, pattern string, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--", os.Args[0],
		"-test.run", pattern, "-test.v", "-test.count=1", "-test.timeout="+timeout.String())
	cmd.Env = append(append(os.Environ(), env+"=1"), extra...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	r := Result{Err: cmd.Run()}
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		r.Lines = append(r.Lines, l)
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "--- FAIL: "); ok {
			r.Failed = append(r.Failed, strings.Fields(name)[0])
		}
		if name, ok := strings.CutPrefix(l, "=== RUN   "); ok && !strings.Contains(name, "/") {
			r.Ran = append(r.Ran, name)
		}
	}
	return r
}
