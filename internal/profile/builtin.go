package profile

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/entra-link/entra-link/internal/catalog"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

var (
	builtinOnce sync.Once
	builtins    []*Profile
	builtinErr  error
)

func loadBuiltins() {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		builtinErr = err
		return
	}
	for _, e := range entries {
		name := path.Join("builtin", e.Name())
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			builtinErr = err
			return
		}
		p, err := Parse(data, name)
		if err != nil {
			builtinErr = fmt.Errorf("built-in profile: %w", err)
			return
		}
		p.Source = "built-in"
		builtins = append(builtins, p)
	}
	// The order products.md lists them in, which is also the wizard's order.
	order := map[string]int{"relution": 0, "hire2retire": 1, "entitle": 2, "unify": 3, "roger365": 4}
	sort.SliceStable(builtins, func(i, j int) bool {
		oi, iok := order[builtins[i].ID]
		oj, jok := order[builtins[j].ID]
		if iok && jok {
			return oi < oj
		}
		if iok != jok {
			return iok
		}
		return builtins[i].ID < builtins[j].ID
	})
}

// Builtins returns the built-in profiles in their display order.
func Builtins() []*Profile {
	builtinOnce.Do(loadBuiltins)
	if builtinErr != nil {
		// The built-ins are validated by tests; a broken one is a build defect.
		panic(builtinErr)
	}
	return builtins
}

// BuiltinIDs lists the built-in profile ids.
func BuiltinIDs() []string {
	ids := make([]string, 0, len(Builtins()))
	for _, p := range Builtins() {
		ids = append(ids, p.ID)
	}
	return ids
}

// Builtin returns the built-in profile with the given id.
func Builtin(id string) (*Profile, error) {
	for _, p := range Builtins() {
		if p.ID == strings.ToLower(strings.TrimSpace(id)) {
			return p, nil
		}
	}
	hint := ""
	if s := catalog.Suggest(id, BuiltinIDs(), 1); len(s) > 0 {
		hint = fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return nil, fmt.Errorf("unknown profile %q%s; built-in profiles: %s (or give a profile file with --profile-file)",
		id, hint, strings.Join(BuiltinIDs(), ", "))
}
