//go:build !unix && !windows

package journal

import (
	"errors"
	"os"
)

const removeNeedsClose = false

// tryLock: without file locks a record's owner cannot be told from a run
// that ended, so the journal is not used here.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locks are not supported on this system")
}
