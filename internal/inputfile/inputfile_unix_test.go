//go:build unix

package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.pem")
	if err := os.WriteFile(ok, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(ok, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ok, link} {
		if b, err := Read(p, 5); err != nil || string(b) != "hello" {
			t.Errorf("Read(%s) = %q, %v", p, b, err)
		}
	}
	if _, err := Read(ok, 4); !errors.Is(err, ErrTooLarge) || err.Error() != "is larger than 4 bytes" {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// Nothing a name can point at makes Read block or read without bound.
func TestReadRefusesQuickly(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	_ = f.Close()
	cases := []struct {
		path string
		err  error
		msg  string
	}{
		{fifo, ErrNotRegular, "is a named pipe (FIFO), not a file"},
		{"/dev/zero", ErrNotRegular, "is a character device, not a file"},
		{"/dev/null", ErrNotRegular, "is a character device, not a file"},
		{dir, ErrNotRegular, "is a directory, not a file"},
		{huge, ErrTooLarge, "is larger than 1 MiB"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { _, err := Read(c.path, 1<<20); done <- err }()
		select {
		case err := <-done:
			var e *Error
			if !errors.Is(err, c.err) || !errors.As(err, &e) || e.Error() != c.msg || e.Path != c.path {
				t.Errorf("Read(%s) = %v, want %q", c.path, err, c.msg)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Read(%s) blocked", c.path)
		}
	}
}
