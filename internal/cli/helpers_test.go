package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/iostreams"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

type result struct {
	stdout, stderr string
	code           int
}

// testFactory returns a factory with buffered, non-terminal streams, a
// fixed clock and an empty environment.
func testFactory(env map[string]string) (*Factory, *iostreams.IOStreams) {
	io, _, _, _ := iostreams.Test()
	return &Factory{
		IO:     io,
		Now:    func() time.Time { return testNow },
		Getenv: func(k string) string { return env[k] },
	}, io
}

// run executes entra-link with args the way main does.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, nil, args...)
}

func runWith(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	f, io := testFactory(env)
	code := Run(context.Background(), f, args)
	return result{
		stdout: io.Out.(interface{ String() string }).String(),
		stderr: io.ErrOut.(interface{ String() string }).String(),
		code:   code,
	}
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./internal/cli -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// mustContain checks that s says each of parts. Text is wrapped to the
// terminal's width, so line breaks and indentation count as one space.
func mustContain(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(flowed(s), flowed(p)) {
			t.Errorf("%s does not contain %q:\n%s", what, p, s)
		}
	}
}

// flowed joins wrapped lines: every run of white space becomes one space,
// and a command continued on the next line (" \") is one line again.
func flowed(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		if f != "\\" {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}
