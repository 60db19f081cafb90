//go:build unix

package certs

import (
	"os"
	"syscall"
)

// openPassword opens without blocking: opening a FIFO that no one writes
// to would otherwise wait forever.
func openPassword(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
