package wizard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func accessibleWizard(input string) (*Wizard, *bytes.Buffer) {
	var out bytes.Buffer
	return New(Config{In: strings.NewReader(input), Out: &out, Accessible: true, Color: true, Width: 80, Now: func() time.Time { return testNow }}), &out
}

// TestAccessibleSetup answers every question with plain lines from one
// bulk reader (the pitfall: huh's fields each wrap the reader in their own
// scanner) and checks the prompts are plain text with their descriptions.
func TestAccessibleSetup(t *testing.T) {
	t.Parallel()
	w, out := accessibleWizard("3\n\n4\nEntitle JIT\n1\ny\n\n")
	e := &fakeEngine{}
	a := &SetupAnswers{Cloud: "global"}
	if _, err := w.Setup(context.Background(), a, givenFlags(), e.hooks()); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := e.atApply
	if got.ProfileID != "entitle" || got.Cloud != "global" || got.Auth != "env" || got.Name != "Entitle JIT" || got.SecretExpiry != "90d" {
		t.Errorf("answers = profile %q cloud %q auth %q name %q expiry %q", got.ProfileID, got.Cloud, got.Auth, got.Name, got.SecretExpiry)
	}
	text := out.String()
	if strings.Contains(text, "\x1b[") {
		t.Errorf("accessible output has escape sequences:\n%q", text)
	}
	for _, want := range []string{
		"Which product are you setting up?",
		"entra-link creates the app registration exactly as the product's own setup", // descriptions are printed
		"3. Entitle",
		"Enter a number between 1 and 6",
		"How do you want to sign in?",
		"2. Device code (default)",
		"✓ Signed in as admin@contoso.com",
		"Apply these changes to Contoso (contoso.onmicrosoft.com)?",
		"✓ Create app registration",
		`"secret": "s3cr3t~value"`,
		"Leave? The client secret will not be shown again.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("accessible transcript lacks %q:\n%s", want, text)
		}
	}
}

// TestAccessibleEndOfInput: an input that ends is no answer: the wizard
// leaves before signing in instead of taking the defaults.
func TestAccessibleEndOfInput(t *testing.T) {
	t.Parallel()
	for _, input := range []string{"", "3\n", "3\n\n4\n\n\n"} {
		w, _ := accessibleWizard(input)
		e := &fakeEngine{}
		_, err := w.Setup(context.Background(), &SetupAnswers{Cloud: "global"}, givenFlags(), e.hooks())
		if !errors.Is(err, ErrCancelled) {
			t.Errorf("input %q: err = %v, want ErrCancelled", input, err)
		}
		if e.applied {
			t.Errorf("input %q: applied", input)
		}
	}
}

// TestAccessibleCtrlC: Ctrl-C on a line prompt arrives as a cancelled
// context (SIGINT), while the prompt is blocked reading.
func TestAccessibleCtrlC(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	var out bytes.Buffer
	w := New(Config{In: pr, Out: &out, Accessible: true, Width: 80})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Setup(ctx, &SetupAnswers{Cloud: "global"}, givenFlags(), (&fakeEngine{}).hooks())
		done <- err
	}()
	if _, err := pw.Write([]byte("3\n")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, ErrCancelled) {
		t.Fatalf("err = %v", err)
	}
}

// TestLineReader hands out one line per read, whatever the reader below.
func TestLineReader(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]io.Reader{
		"bulk":     strings.NewReader("one\ntwo\nthree"),
		"one byte": iotest.OneByteReader(strings.NewReader("one\ntwo\nthree")),
	} {
		lr := newLineReader(r)
		var reads []string
		buf := make([]byte, 64)
		for {
			n, err := lr.Read(buf)
			if n > 0 {
				reads = append(reads, string(buf[:n]))
			}
			if err != nil {
				break
			}
		}
		if strings.Join(reads, "|") != "one\n|two\n|three" || !lr.ended() {
			t.Errorf("%s: reads %q, ended %v", name, reads, lr.ended())
		}
	}
}

// TestAccessibleDefaults: line prompts say which answer Enter keeps: the
// pre-selected choice is marked, a pre-filled value named, and y and n say
// what they stand for.
func TestAccessibleDefaults(t *testing.T) {
	t.Parallel()
	w, out := accessibleWizard("\n\n\n")
	ctx := context.Background()
	if v, err := w.Pick(ctx, "Which cloud?", "", []Choice{{"Global", "global"}, {"US Gov", "usgov"}}, "usgov"); err != nil || v != "usgov" {
		t.Fatalf("Pick = %q, %v", v, err)
	}
	name := "Entitle"
	if err := w.input(ctx, "Display name", "", "", &name, nil, nil); err != nil || name != "Entitle" {
		t.Fatalf("input = %q, %v", name, err)
	}
	if ok, err := w.Confirm(ctx, "Keep the existing client secret?", "", "Keep it", "Add a new secret", true); err != nil || !ok {
		t.Fatalf("Confirm = %v, %v", ok, err)
	}
	for _, want := range []string{"2. US Gov (default)", "Display name (Enter keeps Entitle)", "Keep the existing client secret? (y: Keep it, n: Add a new secret) [Y/n]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "1. Global (default)") {
		t.Errorf("the wrong choice is marked:\n%s", out)
	}
}

// TestAccessibleOutOfRange: a number that is not offered, then the end of
// the input, is no answer (huh itself would index past its options).
func TestAccessibleOutOfRange(t *testing.T) {
	t.Parallel()
	w, out := accessibleWizard("7\n")
	_, err := w.Pick(context.Background(), "Which one?", "", []Choice{{"a", "a"}, {"b", "b"}}, "a")
	if !errors.Is(err, ErrCancelled) {
		t.Errorf("err = %v, want ErrCancelled\n%s", err, out)
	}
}

// TestAuthPickerOffersOnlyWhatWorks: sign-in methods that cannot work on
// this machine are not offered; the description says which and why.
func TestAuthPickerOffersOnlyWhatWorks(t *testing.T) {
	t.Parallel()
	w, out := accessibleWizard("\n")
	a := &SetupAnswers{}
	unavailable := func(m string) string {
		if m == "env" {
			return "AZURE_CLIENT_ID is not set"
		}
		return ""
	}
	if err := w.askAuth(context.Background(), a, givenFlags(), "device-code", unavailable); err != nil || a.Auth != "device-code" {
		t.Fatalf("auth %q, %v", a.Auth, err)
	}
	text := out.String()
	if strings.Contains(text, ". Environment") {
		t.Errorf("the environment method is offered:\n%s", text)
	}
	for _, want := range []string{"Not listed: Environment (AZURE_CLIENT_ID is not set).", "Device code (default)"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
}

// TestAccessiblePickFits: in accessible mode a choice is a numbered line
// ending in "(default)" for the pre-selected one; a long app line still
// fits the terminal's 80 columns (it was cut for the list's indent only,
// and the terminal broke "(default)" onto a line of its own).
func TestAccessiblePickFits(t *testing.T) {
	t.Parallel()
	w, out := accessibleWizard("1\n")
	apps := []AppChoice{{Name: "ROGER365.io Azure Entra replicator", ClientID: "a", Profile: "roger365", Expiry: "secret 2027-12-07 (in 365 days)"}}
	if _, err := w.PickApp(context.Background(), "Which app gets a new client secret?", "", apps); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := false
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "1. ") {
			found = true
			if n := len([]rune(l)); n > 80 || !strings.HasSuffix(l, "(default)") {
				t.Errorf("choice line (%d columns): %q", n, l)
			}
		}
	}
	if !found {
		t.Errorf("no numbered choice:\n%s", out)
	}
}
