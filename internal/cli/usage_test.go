package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entra-link/entra-link/internal/layout"
)

// TestUsageMessages: flag and command mistakes are said in words, with
// what was probably meant; never cobra's or Go's raw texts; exit 2.
func TestUsageMessages(t *testing.T) {
	for _, tc := range []struct {
		args string
		want string
	}{
		{"setup --profile entitle --profile-file x.yaml", "entra-link: --profile and --profile-file cannot be used together; give one of them"},
		{"verify --name x --profile entitle --profile-file p.yaml", "--profile and --profile-file cannot be used together"},
		{"setup --profle entitle", "entra-link: unknown flag --profle for entra-link setup; did you mean --profile?"},
		{"rotate-secret --remove-olds", "did you mean --remove-old?"},
		{"setup --frobnicate", "unknown flag --frobnicate for entra-link setup; see its flags with: entra-link setup --help"},
		{"rotate-secret -x", "unknown flag -x for entra-link rotate-secret"},
		{"stup", `entra-link: unknown command "stup" for entra-link; did you mean entra-link setup?`},
		{"rotate", `did you mean entra-link rotate-secret or entra-link rotate-certificate?`},
		{"apps lst", `unknown command "lst" for entra-link apps; did you mean entra-link apps list?`},
		{"profiles shw entitle", `did you mean entra-link profiles show?`},
		{"apps frob", `unknown command "frob" for entra-link apps; see the commands with: entra-link apps --help`},
		{"verify --warn-days x", `invalid value "x" for --warn-days: want a whole number, e.g. --warn-days 30`},
		{"sandbox --state-dir x --latency 5", `invalid value "5" for --latency: want a duration such as 500ms, 3s or 2m`},
		{"setup --yes=maybe", `invalid value "maybe" for --yes: want true or false`},
		{"setup --profile", "--profile needs a value: built-in product profile: relution, hire2retire, entitle, unify, roger365"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			r := run(t, strings.Fields(tc.args)...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", r.code, r.stdout)
			}
			mustContain(t, "stderr", r.stderr, tc.want)
			for _, raw := range []string{"if any flags in the group", "strconv.", "Did you mean this?", "flag needs an argument", "unknown flag:"} {
				if strings.Contains(r.stderr, raw) {
					t.Errorf("stderr shows %q:\n%s", raw, r.stderr)
				}
			}
			for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
				if n := len([]rune(l)); n > 80 {
					t.Errorf("line of %d columns: %q", n, l)
				}
			}
		})
	}
}

// TestEmptyFlagValues: every string flag of every command, given with an
// empty value (`--output-file "$OUT"` with OUT unset), is refused with exit
// 2 naming the flag, before anything else happens — never taken for "not
// given". Found by walking the command tree, so a new flag is covered too.
func TestEmptyFlagValues(t *testing.T) {
	n := 0
	eachFlag(func(path []string, f *pflag.Flag) {
		switch f.Value.Type() {
		case "string", "stringArray", "stringSlice":
		default:
			return
		}
		for _, form := range [][]string{{"--" + f.Name, ""}, {"--" + f.Name + "=   "}} {
			n++
			args := append(append([]string(nil), path...), form...)
			r := run(t, args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "--"+f.Name+" was given an empty value") {
				t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", args, r.code, r.stdout, r.stderr)
			}
		}
	})
	if n < 40 {
		t.Errorf("only %d flag forms checked: the walk missed commands", n)
	}
	// A repeated flag with one empty value is refused too.
	r := run(t, "setup", "--profile", "unify", "--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "", "--dry-run")
	if r.code != 2 || !strings.Contains(r.stderr, "--redirect-uri was given an empty value") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// TestFlagGivenTwice: a single-value flag of any command given twice with
// different values is refused with exit 2 naming it (pflag would keep the
// last silently: `rotate-secret --name A --name B` rotated B); the same
// value twice is no contradiction.
func TestFlagGivenTwice(t *testing.T) {
	// Should a command run after all (the check broken), whatever it
	// writes ("sandbox --state-dir b") lands in a temporary directory.
	t.Chdir(t.TempDir())
	values := map[string][2]string{"string": {"a", "b"}, "int": {"1", "2"}}
	n := 0
	eachFlag(func(path []string, f *pflag.Flag) {
		v, ok := values[f.Value.Type()]
		if !ok {
			return
		}
		n++
		args := append(append([]string(nil), path...), "--"+f.Name, v[0], "--"+f.Name+"="+v[1])
		r := run(t, args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "--"+f.Name+" was given twice") {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	})
	if n < 40 {
		t.Errorf("only %d flags checked: the walk missed commands", n)
	}
	r := run(t, "rotate-secret", "--name", "Relution", "--name", "Entitle")
	mustContain(t, "stderr", r.stderr, `--name was given twice, as "Relution" and as "Entitle": give it once`, "nothing was changed")
	if r := run(t, "setup", "--profile", "entitle", "--profile", "entitle", "--dry-run"); r.code != 0 {
		t.Errorf("the same value twice: exit %d\n%s", r.code, r.stderr)
	}
}

// TestVersionFlag: entra-link --version prints what entra-link version
// prints.
func TestVersionFlag(t *testing.T) {
	a, b := run(t, "--version"), run(t, "version")
	if a.code != 0 || !strings.HasPrefix(a.stdout, "entra-link ") || a.stdout != b.stdout {
		t.Errorf("--version: exit %d %q; version: %q", a.code, a.stdout, b.stdout)
	}
}

// TestNoGoErrorChains: file errors are said in words, without the
// operation names and temporary files of Go's errors.
func TestNoGoErrorChains(t *testing.T) {
	r := run(t, "setup", "--profile-file", "/nonexistent/p.yaml", "--dry-run")
	mustContain(t, "stderr", r.stderr, "/nonexistent/p.yaml does not exist")
	if strings.Contains(r.stderr, "open /nonexistent") || strings.Contains(r.stderr, "no such file or directory") {
		t.Errorf("a Go error chain:\n%s", r.stderr)
	}
}

// TestLayoutKnowsTheCommands: layout recognises entra-link commands in
// text by their names (to keep them whole): its list is the command tree.
func TestLayoutKnowsTheCommands(t *testing.T) {
	f, _ := testFactory(nil)
	known := map[string]bool{}
	for _, s := range layout.Subcommands() {
		known[s] = true
	}
	root := NewRootCmd(f)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if !c.Hidden && !known[c.Name()] {
			t.Errorf("layout does not know the command %q", c.Name())
		}
		for _, sub := range c.Commands() {
			if got := layout.Commands("run entra-link " + c.Name() + " " + sub.Name() + " --help now"); len(got) != 1 || got[0] != "entra-link "+c.Name()+" "+sub.Name()+" --help" {
				t.Errorf("entra-link %s %s is not recognised whole: %q", c.Name(), sub.Name(), got)
			}
		}
		delete(known, c.Name())
	}
	delete(known, "help")
	for k := range known {
		t.Errorf("layout knows %q, which is not a command", k)
	}
}

// eachFlag calls fn for every flag (its own and inherited) of every
// command that runs, with the command's words ("rotate-secret"), and
// returns how many flags it saw.
func eachFlag(fn func(path []string, f *pflag.Flag)) int {
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		c.Flags().AddFlagSet(c.InheritedFlags())
		c.Flags().VisitAll(func(f *pflag.Flag) {
			n++
			fn(path, f)
		})
	}
	f, _ := testFactory(nil)
	walk(NewRootCmd(f))
	return n
}
