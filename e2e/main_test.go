package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestMain also makes the test binary the stand-in browser: started under
// the name xdg-open (a symlink on PATH, see browser_test.go) it signs in on
// the page it is asked to open, instead of running tests.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == xdgOpen {
		os.Exit(runBrowser(os.Args[1:]))
	}
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
	buildOut  []byte
)

// entraLinkBinary builds cmd/entra-link once per test binary.
func entraLinkBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "entra-link-e2e-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "entra-link")
		build := exec.Command("go", "build", "-o", binPath, "./cmd/entra-link")
		build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
		buildOut, buildErr = build.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}
