package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The binaries under test. The suite builds them once per process; the
// environment can name others instead, e.g. to run this suite against an
// older entra-link:
//
//	ENTRA_LINK_E2E_BIN          the entra-link under test
//	ENTRA_LINK_E2E_HOOKS_BIN    the same, built with -tags testhooks
//	ENTRA_LINK_E2E_SANDBOX_BIN  the entra-link whose `sandbox` is the tenant
const (
	binEnv        = "ENTRA_LINK_E2E_BIN"
	hooksBinEnv   = "ENTRA_LINK_E2E_HOOKS_BIN"
	sandboxBinEnv = "ENTRA_LINK_E2E_SANDBOX_BIN"
)

var built struct {
	once             sync.Once
	dir              string
	plain, hooks     string
	err              error
	plainOut, hkOut  []byte
	plainDur, hksDur time.Duration
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// buildBinaries builds entra-link as released (no tags) and with the test
// hooks (-tags testhooks), once per process.
func buildBinaries(t testing.TB) (plain, hooks string) {
	t.Helper()
	root := moduleRoot(t)
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "entra-link-e2e-")
		if built.err != nil {
			return
		}
		build := func(out string, tags ...string) ([]byte, time.Duration, error) {
			start := time.Now()
			args := append([]string{"build"}, tags...)
			cmd := exec.Command("go", append(args, "-o", out, "./cmd/entra-link")...)
			cmd.Dir = root
			b, err := cmd.CombinedOutput()
			return b, time.Since(start), err
		}
		built.plain = filepath.Join(built.dir, "entra-link")
		if built.plainOut, built.plainDur, built.err = build(built.plain); built.err != nil {
			return
		}
		built.hooks = filepath.Join(built.dir, "entra-link-testhooks")
		built.hkOut, built.hksDur, built.err = build(built.hooks, "-tags", "testhooks")
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s%s", built.err, built.plainOut, built.hkOut)
	}
	t.Logf("built entra-link in %s and its testhooks variant in %s", built.plainDur.Round(time.Millisecond), built.hksDur.Round(time.Millisecond))
	return built.plain, built.hooks
}

// binaries returns the entra-link under test, its testhooks variant and
// the sandbox binary, from the environment or built here.
func binaries(t testing.TB) (cli, hooks, sandbox string) {
	t.Helper()
	cli, hooks, sandbox = os.Getenv(binEnv), os.Getenv(hooksBinEnv), os.Getenv(sandboxBinEnv)
	if cli == "" || hooks == "" || sandbox == "" {
		plain, h := buildBinaries(t)
		cli, hooks, sandbox = or(cli, plain), or(hooks, h), or(sandbox, plain)
	}
	return cli, hooks, sandbox
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// removeBuilt deletes what buildBinaries made (TestMain).
func removeBuilt() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// TestBinaryDoesNotLinkEveryModel: the released binary stays small. Two
// ways to make it 45 MB larger, both met in this project: letting kiota
// parse responses (graph's package doc) and anything that links
// text/template (a cobra usage, help or version template), whose
// reflection keeps every exported method of every type — all of
// msgraph-sdk-go's models. Measured: 23 MB without, 68 MB with.
func TestBinaryDoesNotLinkEveryModel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, _ := buildBinaries(t)
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 40 << 20
	if fi.Size() > limit {
		t.Errorf("entra-link is %.1f MB, more than %d MB: something links every model type (text/template, kiota parsing)", float64(fi.Size())/(1<<20), limit>>20)
	}
	t.Logf("entra-link is %.1f MB", float64(fi.Size())/(1<<20))
}
