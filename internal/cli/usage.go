package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
	"syscall"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
)

// printError writes err for the user: "entra-link: " and the message,
// wrapped to the terminal, continuation lines indented.
func printError(w io.Writer, err error) {
	msg := userMessage(err)
	first, rest, _ := strings.Cut(msg, "\n")
	lines := layout.Hang("entra-link: ", "  ", first, layout.Width(w))
	if rest != "" {
		lines = append(lines, layout.Lines(rest, layout.Width(w))...)
	}
	_, _ = io.WriteString(w, layout.Text(lines))
}

// userMessage is err's message with the system's error texts, which name
// operations and paths the way Go does ("open /x: no such file or
// directory"), said in words instead.
func userMessage(err error) string {
	msg := err.Error()
	for _, pe := range pathErrors(err) {
		msg = strings.Replace(msg, pe.Error(), pathWords(pe), 1)
	}
	return msg
}

// pathErrors lists the *fs.PathError in err's tree.
func pathErrors(err error) []*fs.PathError {
	var out []*fs.PathError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		// The tree is walked here, not searched with errors.As, to find
		// every path error in it.
		if pe, ok := e.(*fs.PathError); ok { //nolint:errorlint // the walk visits each wrapped error itself
			out = append(out, pe)
			return
		}
		switch u := e.(type) { //nolint:errorlint // the walk visits each wrapped error itself
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// pathWords says what a failed file operation means.
func pathWords(pe *fs.PathError) string {
	switch {
	case errors.Is(pe.Err, fs.ErrNotExist):
		return pe.Path + " does not exist"
	case errors.Is(pe.Err, fs.ErrPermission):
		return "you may not read or write " + pe.Path
	case errors.Is(pe.Err, syscall.EISDIR):
		return pe.Path + " is a directory"
	case errors.Is(pe.Err, syscall.ENOTDIR):
		return "a part of " + pe.Path + " is not a directory"
	}
	return pe.Path + ": " + pe.Err.Error()
}

// flagError says what is wrong with a flag, in words, and suggests the
// flag meant when one is close (--profle → --profile).
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	var vr *pflag.ValueRequiredError
	var iv *pflag.InvalidValueError
	var is *pflag.InvalidSyntaxError
	help := "see its flags with: " + c.CommandPath() + " --help"
	switch {
	case errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "":
		short := ne.GetSpecifiedName()[:1]
		if group := ne.GetSpecifiedShortnames(); group != short {
			return exit.UsageErrorf("unknown flag -%s (in -%s) for %s; %s", short, group, c.CommandPath(), help)
		}
		return exit.UsageErrorf("unknown flag -%s for %s; %s", short, c.CommandPath(), help)
	case errors.As(err, &ne):
		name := ne.GetSpecifiedName()
		if s := suggestFlags(c, name); len(s) > 0 {
			return exit.UsageErrorf("unknown flag --%s for %s; did you mean %s?", name, c.CommandPath(), strings.Join(s, " or "))
		}
		return exit.UsageErrorf("unknown flag --%s for %s; %s", name, c.CommandPath(), help)
	case errors.As(err, &vr):
		name := "--" + vr.GetFlag().Name
		return exit.UsageErrorf("%s needs a value: %s", name, flagUsage(vr.GetFlag()))
	case errors.As(err, new(*errGivenTwice)) && errors.As(err, &iv):
		var tw *errGivenTwice
		errors.As(err, &tw)
		return exit.UsageErrorf("--%s was given twice, as %q and as %q: give it once (nothing was changed)", iv.GetFlag().Name, tw.first, iv.GetValue())
	case errors.As(err, &iv):
		fl := iv.GetFlag()
		want := map[string]string{
			"int":      "a whole number, e.g. --%s 30",
			"duration": "a duration such as 500ms, 3s or 2m, e.g. --%s 3s",
			"bool":     "true or false, e.g. --%s=false",
		}[fl.Value.Type()]
		if want == "" {
			return exit.UsageErrorf("invalid value %q for --%s: %s", iv.GetValue(), fl.Name, flagUsage(fl))
		}
		return exit.UsageErrorf("invalid value %q for --%s: want "+want, iv.GetValue(), fl.Name, fl.Name)
	case errors.As(err, &is):
		return exit.UsageErrorf("%q is not a flag (flags look like --name VALUE); %s", is.GetSpecifiedFlag(), help)
	}
	return exit.UsageError(fmt.Errorf("%w; %s", err, help))
}

// flagUsage is a flag's help text, to say what a value should be.
func flagUsage(f *pflag.Flag) string {
	return strings.TrimSpace(f.Usage)
}

// suggestFlags lists the command's flags close to name.
func suggestFlags(c *cobra.Command, name string) []string {
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	out := catalog.Suggest(name, names, 2)
	for i := range out {
		out[i] = "--" + out[i]
	}
	return out
}

var (
	exclusiveRe = regexp.MustCompile(`^if any flags in the group \[([^\]]*)\] are set none of the others can be; \[([^\]]*)\] were all set$`)
	togetherRe  = regexp.MustCompile(`^if any flags in the group \[([^\]]*)\] are set they must all be set; missing \[([^\]]*)\]$`)
	oneOfRe     = regexp.MustCompile(`^at least one of the flags in the group \[([^\]]*)\] is required$`)
	unknownRe   = regexp.MustCompile(`^unknown command "([^"]*)" for "([^"]*)"`)
)

// usageWords rewrites cobra's own usage errors (flag groups, unknown
// commands) in words; other errors are returned as they are.
func usageWords(root *cobra.Command, err error) error {
	msg := err.Error()
	dashed := func(list string) []string {
		var out []string
		for _, f := range strings.Fields(list) {
			out = append(out, "--"+f)
		}
		return out
	}
	if m := exclusiveRe.FindStringSubmatch(msg); m != nil {
		return exit.UsageErrorf("%s cannot be used together; give one of them", andList(dashed(m[2])))
	}
	if m := togetherRe.FindStringSubmatch(msg); m != nil {
		return exit.UsageErrorf("%s go together: add %s", andList(dashed(m[1])), andList(dashed(m[2])))
	}
	if m := oneOfRe.FindStringSubmatch(msg); m != nil {
		return exit.UsageErrorf("give one of %s", strings.Join(dashed(m[1]), ", "))
	}
	if m := unknownRe.FindStringSubmatch(msg); m != nil {
		parent := root
		if c, _, ferr := root.Find(strings.Fields(m[2])[1:]); ferr == nil {
			parent = c
		}
		return unknownCommand(parent, m[1])
	}
	return err
}

// unknownCommand reports an unknown subcommand of parent, with the
// commands it may have meant.
func unknownCommand(parent *cobra.Command, name string) error {
	var s []string
	if parent.SuggestionsMinimumDistance <= 0 {
		parent.SuggestionsMinimumDistance = 2
	}
	for _, c := range parent.SuggestionsFor(name) {
		s = append(s, parent.CommandPath()+" "+c)
	}
	if len(s) > 0 {
		return exit.UsageErrorf("unknown command %q for %s; did you mean %s?", name, parent.CommandPath(), strings.Join(s, " or "))
	}
	return exit.UsageErrorf("unknown command %q for %s; see the commands with: %s --help", name, parent.CommandPath(), parent.CommandPath())
}

// groupRun makes a command that only groups others report an unknown
// subcommand (cobra would print the help and exit 0).
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return unknownCommand(cmd, args[0])
}

func andList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// usageFunc is cobra's default usage text with two spaces between a
// command's name and its summary (see NewRootCmd).
func usageFunc(c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:")
	if c.Runnable() {
		b.WriteString("\n  " + c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\n  " + c.CommandPath() + " [command]")
	}
	if len(c.Aliases) > 0 {
		b.WriteString("\n\nAliases:\n  " + c.NameAndAliases())
	}
	if c.HasExample() {
		b.WriteString("\n\nExamples:\n" + c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\n\nAvailable Commands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				b.WriteString("\n  " + padRight(sub.Name(), sub.NamePadding()) + "  " + sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		b.WriteString("\n\nFlags:\n" + strings.TrimRightFunc(c.LocalFlags().FlagUsages(), unicode.IsSpace))
	}
	if c.HasAvailableInheritedFlags() {
		b.WriteString("\n\nGlobal Flags:\n" + strings.TrimRightFunc(c.InheritedFlags().FlagUsages(), unicode.IsSpace))
	}
	if c.HasHelpSubCommands() {
		b.WriteString("\n\nAdditional help topics:")
		for _, sub := range c.Commands() {
			if sub.IsAdditionalHelpTopicCommand() {
				b.WriteString("\n  " + padRight(sub.CommandPath(), sub.CommandPathPadding()) + " " + sub.Short)
			}
		}
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\n\nUse \"" + c.CommandPath() + " [command] --help\" for more information about a command.")
	}
	b.WriteString("\n")
	_, err := io.WriteString(c.OutOrStderr(), b.String())
	return err
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// saidError is an error already said in words for the user; it keeps the
// error it says, for errors.Is and errors.As.
type saidError struct {
	msg string
	err error
}

func (e *saidError) Error() string { return e.msg }

func (e *saidError) Unwrap() error { return e.err }
