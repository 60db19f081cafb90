//go:build unix

package journal

import (
	"errors"
	"os"
	"syscall"
)

// removeNeedsClose: unix removes an open (locked) file.
const removeNeedsClose = false

// tryLock takes an exclusive lock on f without waiting; false when another
// open file (another process, or another Journal) holds it. The kernel
// drops the lock when the file is closed or the process ends.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
