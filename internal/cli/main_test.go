package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain gives the tests a home of their own: the journal, saved
// sign-ins, the sandbox and the last-used cloud fall back to the home
// directory when a test's environment names none, and no test may write
// to the real one.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "entra-link-cli-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli tests: make a home:", err)
		os.Exit(2)
	}
	for k, v := range map[string]string{"HOME": home, "XDG_STATE_HOME": "", "XDG_CACHE_HOME": filepath.Join(home, ".cache"), "XDG_CONFIG_HOME": filepath.Join(home, ".config")} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, "cli tests:", err)
			os.Exit(2)
		}
	}
	code := m.Run()
	if err := os.RemoveAll(home); err != nil {
		fmt.Fprintln(os.Stderr, "cli tests: remove the test home:", err)
	}
	os.Exit(code)
}
