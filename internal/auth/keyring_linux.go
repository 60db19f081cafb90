package auth

import "golang.org/x/sys/unix"

// forgetKey unlinks the key azidentity's persistent cache stored under
// name in the user's (persistent) keyring, as its cache_linux.go finds it.
// Best effort: without the key the cache file cannot be read anyway.
func forgetKey(name string) {
	ring, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false)
	if err != nil {
		return
	}
	if persistent, err := unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, ring, 0, 0); err == nil {
		ring = persistent
	}
	if id, err := unix.KeyctlSearch(ring, "user", name, 0); err == nil {
		_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0)
	}
}
