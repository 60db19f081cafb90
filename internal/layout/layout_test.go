package layout

import (
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

const guid = "70494f6e-2c1a-4d8e-9b3a-5f6e7d8c9b0a"

// fits fails the test for a line wider than width.
func fits(t *testing.T, lines []string, width int) {
	t.Helper()
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line of %d columns, want at most %d: %q", w, width, l)
		}
	}
}

// sameWords fails the test unless lines hold exactly the words of text,
// in order: nothing broken, lost or added.
func sameWords(t *testing.T, text string, lines []string) {
	t.Helper()
	got := strings.Fields(strings.Join(lines, " "))
	if want := strings.Fields(text); !slices.Equal(got, want) {
		t.Errorf("words changed:\n got %q\nwant %q", got, want)
	}
}

func TestWrapKeepsWordsWhole(t *testing.T) {
	text := "Read and write all directory RBAC settings: Allows the app to read and manage the role-based access control (RBAC) settings for your company's directory, without a signed-in user. See https://learn.microsoft.com/en-us/graph/permissions-reference#rolemanagementreadwritedirectory for " + guid + "."
	for _, width := range []int{20, 33, 60, 80, 120} {
		lines := Wrap(text, width)
		sameWords(t, text, lines)
		for _, l := range lines {
			if ansi.StringWidth(l) > width && strings.Contains(l, " ") {
				t.Errorf("width %d: a line wider than the width holds more than one word: %q", width, l)
			}
		}
	}
	// The URL is longer than 60 columns: whole, on a line of its own.
	lines := Wrap(text, 60)
	if !slices.Contains(lines, "https://learn.microsoft.com/en-us/graph/permissions-reference#rolemanagementreadwritedirectory") {
		t.Errorf("the long URL is not alone and whole on a line:\n%s", strings.Join(lines, "\n"))
	}
}

func TestDashNeverStartsALine(t *testing.T) {
	text := `In Entitle open Integrations > Add Integration, choose "Microsoft Entra ID - Azure AD", set "Save on".`
	for width := 40; width <= 90; width++ {
		for _, l := range Hang("  1. ", "     ", text, width) {
			if f := strings.Fields(l); len(f) > 0 && isDash(f[0]) {
				t.Errorf("width %d: a line starts with a dash: %q", width, l)
			}
		}
	}
}

func TestWrapFitsWhenItCan(t *testing.T) {
	if got := Wrap("short text", 80); !slices.Equal(got, []string{"short text"}) {
		t.Errorf("got %q", got)
	}
	if got := Wrap("a\n\nb", 80); !slices.Equal(got, []string{"a", "", "b"}) {
		t.Errorf("paragraph breaks: got %q", got)
	}
	if got := Width(os.Stdout); got <= 0 {
		t.Errorf("Width = %d", got)
	}
	if got := Width(&strings.Builder{}); got != DefaultWidth {
		t.Errorf("Width of a non-terminal = %d, want %d", got, DefaultWidth)
	}
}

// TestCommandOwnLine: a command to copy, in wrapped text, is on a line of
// its own, whole, without the sentence's full stop.
func TestCommandOwnLine(t *testing.T) {
	text := "The secret expires on 2027-11-21; Entitle needs a new integration secret before then: entra-link rotate-secret --app-id " + guid + "."
	lines := Numbered("  ", []string{text}, 80)
	fits(t, lines, 80)
	want := "entra-link rotate-secret --app-id " + guid
	found := false
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			found = true
		} else if strings.Contains(l, "rotate-secret") || strings.Contains(l, guid) {
			t.Errorf("part of the command on a line with other text: %q", l)
		}
	}
	if !found {
		t.Errorf("the command is not alone on a line:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(lines[0], "  1. The secret expires") {
		t.Errorf("first line %q", lines[0])
	}
}

// TestCommandInline: commands stay in a sentence that fits, and short
// ones without flags wrap as one unit.
func TestCommandInline(t *testing.T) {
	short := "Set one up with entra-link setup --profile ID."
	if got := Wrap(short, 80); !slices.Equal(got, []string{short}) {
		t.Errorf("got %q", got)
	}
	text := `--name "nope": no app with this name was made by entra-link (searched the 2 app(s) tagged "entra-link" in the tenant; entra-link apps list shows them)`
	lines := Hang("entra-link: ", "  ", text, 80)
	fits(t, lines, 80)
	sameWords(t, "entra-link: "+text, lines)
	joined := 0
	for _, l := range lines {
		if strings.Contains(l, "entra-link apps list") {
			joined++
		}
	}
	if joined != 1 {
		t.Errorf("entra-link apps list is broken across lines:\n%s", strings.Join(lines, "\n"))
	}
	// "entra-link made" is prose, not a command.
	if ws := words("apps entra-link made in Contoso"); len(ws) != 5 {
		t.Errorf("prose taken for a command: %+v", ws)
	}
}

func TestCommandRecognition(t *testing.T) {
	for _, tc := range []struct{ text, cmd string }{
		{"run: entra-link setup --profile hire2retire --app-id " + guid + " --certificate-file NEW-CERTIFICATE.cer; nothing changed", "entra-link setup --profile hire2retire --app-id " + guid + " --certificate-file NEW-CERTIFICATE.cer"},
		{"use entra-link rotate-secret --name \"ROGER365.io Azure Entra replicator\" --secret-expiry 6m --no-input for it", "entra-link rotate-secret --name \"ROGER365.io Azure Entra replicator\" --secret-expiry 6m --no-input"},
		{"see 'entra-link setup --help' for usage", "'entra-link setup --help'"},
		{"see `entra-link profiles show entitle` first", "`entra-link profiles show entitle`"},
		{"try entra-link profiles show entitle.", "entra-link profiles show entitle"},
		{"then entra-link verify --app-id " + guid + " --sandbox shows it", "entra-link verify --app-id " + guid + " --sandbox"},
		{"print it: entra-link --version", "entra-link --version"},
		// In parentheses: the command is one word with its parenthesis.
		{"keeps working until retired (entra-link retire --app-id " + guid + " --sandbox)", "(entra-link retire --app-id " + guid + " --sandbox)"},
	} {
		var got string
		for _, w := range words(tc.text) {
			if w.cmd {
				got = w.text
			}
		}
		if got != tc.cmd {
			t.Errorf("in %q\n got command %q\nwant %q", tc.text, got, tc.cmd)
		}
	}
	for _, prose := range []string{"made by entra-link in Contoso", "the entra-link tags", "entra-link: cannot", "'entra-link' is the name"} {
		for _, w := range words(prose) {
			if w.cmd {
				t.Errorf("%q: %q taken for a command", prose, w.text)
			}
		}
	}
}

// TestCommandTooLong: a command wider than the terminal is continued
// between arguments with " \", and pastes back as the same command.
func TestCommandTooLong(t *testing.T) {
	cmd := "entra-link setup --profile relution --app-id " + guid + " --server-url https://relution.contoso.com --tenant contoso.onmicrosoft.com --sandbox"
	for _, width := range []int{40, 60, 80} {
		lines := Command("      ", cmd, width)
		for _, l := range lines {
			if ansi.StringWidth(l) > width && !oneArg(l) {
				t.Errorf("width %d: line too wide: %q", width, l)
			}
		}
		pasted := continuation.ReplaceAllString(strings.Join(lines, "\n"), " ")
		if strings.TrimSpace(pasted) != cmd {
			t.Errorf("width %d: pastes as %q", width, pasted)
		}
		for _, l := range lines {
			if strings.HasSuffix(l, "--app-id \\") || strings.HasSuffix(l, "--server-url \\") {
				t.Errorf("a flag is separated from its value: %q", l)
			}
		}
	}
	if got := Command("  ", "entra-link apps list", 80); !slices.Equal(got, []string{"  entra-link apps list"}) {
		t.Errorf("got %q", got)
	}
}

func TestLineHangs(t *testing.T) {
	line := "  Tenant      Contoso (entra-link sandbox) (contososandboxthv1no.onmicrosoft.com)"
	got := Line(line, 60)
	want := []string{"  Tenant      Contoso (entra-link sandbox)", "              (contososandboxthv1no.onmicrosoft.com)"}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = Line("✓ Create app registration \"Entitle\" (single-tenant) — client ID "+guid, 80)
	if len(got) != 2 || got[1] != "  "+guid {
		t.Errorf("step line: %q", got)
	}
	colored := "\x1b[32m✓\x1b[0m Grant admin consent: Microsoft Graph · RoleManagement.ReadWrite.Directory \x1b[2m— waiting for Entra\x1b[0m"
	fits(t, Line(colored, 60), 60)
}

// TestLineCases are the wizard's lines as they were wrapped before this
// package existed.
func TestLineCases(t *testing.T) {
	cases := []struct{ in, want string }{
		{"short", "short"},
		{"  Tenant      Contoso (entra-link sandbox) (contososandbox0m21go.onmicrosoft.com)",
			"  Tenant      Contoso (entra-link sandbox)\n              (contososandbox0m21go.onmicrosoft.com)"},
		{"✓ Create app registration \"Entitle\" (single-tenant) — client ID 583e765c-9c2c-404a",
			"✓ Create app registration \"Entitle\" (single-tenant) — client ID\n  583e765c-9c2c-404a"},
		{"  2. The secret expires on 2027-11-21; Entitle needs a new secret before then: rotate",
			"  2. The secret expires on 2027-11-21; Entitle needs a new secret before then:\n     rotate"},
		{"Esc or Ctrl-C leaves at any question. Nothing in your tenant changes before you confirm.",
			"Esc or Ctrl-C leaves at any question. Nothing in your tenant changes before you\nconfirm."},
		{"Portal: https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview",
			"Portal:\nhttps://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview"},
		{"  2. The secret expires on 2027-11-21; Entitle needs a new secret before then: entra-link rotate-secret --app-id " + guid,
			"  2. The secret expires on 2027-11-21; Entitle needs a new secret before then:\n       entra-link rotate-secret --app-id " + guid},
	}
	for _, tc := range cases {
		if got := strings.Join(Line(tc.in, 80), "\n"); got != tc.want {
			t.Errorf("Line(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestListsAndLabels(t *testing.T) {
	items := []string{"app registration \"Entitle\" (client ID " + guid + ", profile entitle, created 2026-12-07)", "0 delegated permission grants"}
	lines := List("  - ", items, 80)
	fits(t, lines, 80)
	if len(lines) != 3 || lines[1] != "    "+strings.Fields(lines[1])[0]+" "+strings.Join(strings.Fields(lines[1])[1:], " ") {
		t.Errorf("continuation does not hang under the text:\n%s", strings.Join(lines, "\n"))
	}
	num := Numbered("", make([]string, 10), 80)
	if num[0] != " 1." || num[9] != "10." {
		t.Errorf("numbers not aligned: %q", num)
	}
	lab := Labeled("  ", [][2]string{{"Tenant", "Contoso (entra-link sandbox) (contososandboxthv1no.onmicrosoft.com)"}, {"App", "create"}}, 60)
	fits(t, lab, 60)
	if !strings.HasPrefix(lab[1], strings.Repeat(" ", 10)) || !strings.HasPrefix(lab[2], "  App     create") {
		t.Errorf("labels:\n%s", strings.Join(lab, "\n"))
	}
}

func TestTable(t *testing.T) {
	cols := []Column{{Header: "NAME", Fit: true, Truncate: true}, {Header: "CLIENT ID"}, {Header: "DESCRIPTION", Fit: true}}
	rows := [][]string{
		{"ROGER365.io Azure Entra replicator with a very long name", guid, "CRM replicator; reads Entra users for the ROGER365.io Azure Entra replicator."},
		{"Entitle", guid, "Just-in-time access."},
	}
	lines := Table(cols, rows, 80)
	fits(t, lines, 80)
	if !strings.Contains(strings.Join(lines, "\n"), guid) {
		t.Error("an id was cut")
	}
	if !strings.Contains(lines[1], "…") {
		t.Errorf("the long name is not shortened: %q", lines[1])
	}
	if len(lines) < 4 {
		t.Errorf("the description did not wrap inside its column:\n%s", strings.Join(lines, "\n"))
	}
	// Wide enough: nothing changes.
	wide := Table(cols, rows, 300)
	if len(wide) != 3 || !strings.Contains(wide[1], rows[0][0]) {
		t.Errorf("wide table:\n%s", strings.Join(wide, "\n"))
	}
}

// TestWrapRandom: whatever the text and width, no word is broken or lost,
// and a line is wider than the width only when it is one word (or one
// command that cannot be continued).
func TestWrapRandom(t *testing.T) {
	vocab := []string{"the", "secret", "expires", "on", "2027-11-21;", "entra-link", "rotate-secret", "--app-id", guid, "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/" + guid, "(client", "ID", "a", "consent.", "—", "Contoso", "setup", "--profile", "entitle", "--sandbox"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(40)
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocab[r.IntN(len(vocab))]
		}
		text := strings.Join(ws, " ")
		width := 20 + r.IntN(100)
		lines := Hang("  1. ", "     ", text, width)
		got := strings.Fields(continuation.ReplaceAllString(strings.Join(lines, "\n"), " "))
		want := strings.Fields("1. " + text)
		// A command put on its own line loses the full stop after it.
		if !slices.Equal(got, want) && !slices.Equal(stripStops(got), stripStops(want)) {
			t.Fatalf("width %d, words changed\ntext %q\nlines:\n%s", width, text, strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > width && len(wordsOf(strings.TrimPrefix(l, "  1. "))) > 1 && !strings.Contains(l, Program) && !oneArg(l) {
				t.Fatalf("width %d: line too wide: %q", width, l)
			}
		}
	}
}

var continuation = regexp.MustCompile(`\s*\\\n\s*`)

// oneArg: a line holding one flag with its value (a command's
// continuation line), which cannot be made narrower.
func oneArg(l string) bool {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(l), " \\"))
	return len(f) <= 2 && strings.HasPrefix(f[0], "-")
}

// wordsOf lists the words of l, a dash not counting as one (it stays with
// the word before it).
func wordsOf(l string) []string {
	var out []string
	for _, f := range strings.Fields(l) {
		if !isDash(f) {
			out = append(out, f)
		}
	}
	return out
}

func stripStops(ws []string) []string {
	var out []string
	for _, w := range ws {
		if w = strings.TrimRight(w, ".,;:"); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func TestReflow(t *testing.T) {
	help := `Create or update the Microsoft Entra app registration a product needs, in one run:

  1. sign in as an admin (browser, device code, Azure CLI, environment or managed identity);
  3. find the app entra-link made before (by its tags), or create it, with exactly the
     product's permissions, redirect / identifier URIs and account type;
  ca.pem       the CA that signed the server certificate (trust it with SSL_CERT_FILE,
               NODE_EXTRA_CA_CERTS or REQUESTS_CA_BUNDLE)

Examples:
  # Hire2Retire with the certificate downloaded from Hire2Retire, Exchange Online included,
  # in the US Government L5 (DoD) cloud
  entra-link setup --profile hire2retire --certificate-file hire2retire.cer --with exchange --cloud usgov-dod
  entra-link setup --profile entitle --auth env \
    --authority-host https://127.0.0.1:8443 --graph-endpoint https://127.0.0.1:8443

entra-link does in one run what a SaaS vendor's setup guide makes a Microsoft Entra
admin click through.

Available Commands:
  apps           The apps entra-link made in a tenant
  rotate-secret  Add a new client secret to an app (optionally retire the old ones)
  sandbox        Run a local emulated tenant (Entra sign-in + Microsoft Graph) for trying entra-link

Flags:
      --login-client-id string   public client app to sign in through (default: Microsoft Graph Command Line Tools)`
	got := Reflow(help, 80)
	fits(t, got, 80)
	want := []string{
		"Create or update the Microsoft Entra app registration a product needs, in one",
		"run:",
		"",
		"  1. sign in as an admin (browser, device code, Azure CLI, environment or",
		"     managed identity);",
		"  3. find the app entra-link made before (by its tags), or create it, with",
		"     exactly the product's permissions, redirect / identifier URIs and account",
		"     type;",
		"  ca.pem       the CA that signed the server certificate (trust it with",
		"               SSL_CERT_FILE, NODE_EXTRA_CA_CERTS or REQUESTS_CA_BUNDLE)",
		"",
		"Examples:",
		"  # Hire2Retire with the certificate downloaded from Hire2Retire, Exchange",
		"  # Online included, in the US Government L5 (DoD) cloud",
		"  entra-link setup --profile hire2retire --certificate-file hire2retire.cer \\",
		"    --with exchange --cloud usgov-dod",
		"  entra-link setup --profile entitle --auth env \\",
		"    --authority-host https://127.0.0.1:8443 \\",
		"    --graph-endpoint https://127.0.0.1:8443",
		"",
		"entra-link does in one run what a SaaS vendor's setup guide makes a Microsoft",
		"Entra admin click through.",
		"",
		"Available Commands:",
		"  apps           The apps entra-link made in a tenant",
		"  rotate-secret  Add a new client secret to an app (optionally retire the old",
		"                 ones)",
		"  sandbox        Run a local emulated tenant (Entra sign-in + Microsoft Graph)",
		"                 for trying entra-link",
		"",
		"Flags:",
		"      --login-client-id string   public client app to sign in through (default:",
		"                                 Microsoft Graph Command Line Tools)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestReflowFlagsInProse: a line of prose that starts with a flag continues
// its paragraph, and a flag's help continues under its own column, however
// wide the longest flag makes it (setup's is 46 columns).
func TestReflowFlagsInProse(t *testing.T) {
	col := strings.Repeat(" ", 46)
	help := "--app-id adopts an existing app: its name is kept unless\n--name, its other permissions stay unless --prune.\n\n" +
		"      --accessible" + col[18:] + "ask with plain line prompts, for screen readers (also ACCESSIBLE=1)\n" +
		"  -y, --yes" + col[11:] + "apply without asking for confirmation, ever, in any case"
	got := Reflow(help, 80)
	fits(t, got, 80)
	want := []string{
		"--app-id adopts an existing app: its name is kept unless --name, its other",
		"permissions stay unless --prune.",
		"",
		"      --accessible" + col[18:] + "ask with plain line prompts, for",
		col + "screen readers (also ACCESSIBLE=1)",
		"  -y, --yes" + col[11:] + "apply without asking for",
		col + "confirmation, ever, in any case",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
