package wizard

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/profile"
)

// validInput checks values for one input exactly as setup will (by
// resolving a request that holds only them) and returns the profile's own
// words for what is wrong.
func validInput(p *profile.Profile, in profile.Input, vals []string, now func() time.Time) error {
	_, err := profile.Resolve(p, profile.Request{Values: map[string][]string{in.ID: vals}}, now())
	var ie *profile.InvalidError
	if errors.As(err, &ie) && ie.Flag == in.Flag() {
		return errors.New(ie.Msg)
	}
	// Anything else (other inputs still missing, the certificate not yet
	// chosen) is asked later.
	return nil
}

// maxSuggestions bounds the completions offered for one prefix.
const maxSuggestions = 50

// completePath offers file-system completions for a typed path: the
// entries of its directory that start with its last element, directories
// with a trailing slash. The Tab key takes the first one.
func completePath(typed string) []string {
	if strings.ContainsRune(typed, '\n') {
		return nil
	}
	if typed == "~" {
		return []string{"~" + string(filepath.Separator)}
	}
	expanded := expandHome(typed)
	dir, prefix := filepath.Split(expanded)
	readDir := dir
	if readDir == "" {
		readDir = "."
	}
	entries, err := os.ReadDir(readDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(prefix, ".")) {
			continue
		}
		full := typed[:len(typed)-len(prefix)] + name
		if e.IsDir() {
			full += string(filepath.Separator)
		}
		out = append(out, full)
		if len(out) == maxSuggestions {
			break
		}
	}
	sort.Strings(out)
	return out
}

// expandHome replaces a leading ~/ with the home directory, as a shell would.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}
