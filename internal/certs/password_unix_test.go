//go:build unix

package certs

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadPasswordFilePipes: devices are refused, a FIFO nobody writes to
// fails at once, a pipe with a writer is read.
func TestReadPasswordFilePipes(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadPasswordFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file or a pipe") {
		t.Errorf("/dev/zero: %v", err)
	}
	// A FIFO nobody writes to fails at once instead of hanging.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := ReadPasswordFile(fifo); err == nil {
		t.Error("an unwritten FIFO gave a password")
	}
	if d := time.Since(start); d > passwordReadTimeout {
		t.Errorf("an unwritten FIFO took %s", d)
	}
	// A pipe with a writer, as from the shell's <(…): read.
	sh := exec.Command("sh", "-c", `printf 'from a pipe\n' > "$0"`, fifo)
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, err = ReadPasswordFile(fifo); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = sh.Wait()
	if got != "from a pipe" {
		t.Errorf("from a pipe: got %q, %v", got, err)
	}
}
