package wizard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"charm.land/huh/v2"

	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/securefile"
)

// apply runs an apply hook under the progress view.
func (w *Wizard) apply(ctx context.Context, fn func(ctx context.Context, report func(Event)) (*output.Result, error)) (*output.Result, error) {
	w.say("%s", w.st.bold("Applying"))
	var res *output.Result
	stopped, err := w.progress(ctx, func(ctx context.Context, report func(Event)) error {
		r, err := fn(ctx, report)
		res = r
		return err
	})
	if stopped {
		w.stopped = true
	}
	return res, err
}

// handover is the last screen: the values the product needs under its own
// labels, the secret once with its expiry, the next steps, and an offer to
// write the values to a 0600 file. Leaving it warns that the secret will
// not be shown again. Esc or Ctrl-C here simply leaves: the run is over.
func (w *Wizard) handover(ctx context.Context, delivery string, res *output.Result, shown func(*output.Result)) {
	if res == nil {
		return
	}
	w.say("")
	var b bytes.Buffer
	_ = output.RenderText(&b, res, output.Style{Color: w.st.color, Width: w.width()}, w.cfg.Now())
	if _, err := io.WriteString(w.out, layout.Text(layout.Lines(strings.TrimRight(b.String(), "\n"), w.width()))); err != nil {
		// The terminal is gone (a dropped SSH session): nobody saw the
		// values, so the secret is not handed over. shown is not told, and
		// the next run removes the secret (its journal record stays open).
		return
	}
	if shown != nil {
		shown(res)
	}
	if delivery != "" {
		w.say("")
		w.say("The result was also written to %s.", delivery)
	}
	if w.stopped {
		w.say("")
		w.say("%s Stopped at your request: the steps marked ✓ were done, the others were not.", w.st.yellow("!"))
	}
	if res.Handover == nil || len(res.Handover.Fields) == 0 {
		return
	}
	if res.KeptSecret != nil {
		// The values lack the kept secret, which cannot be read back: a
		// file of them would look complete and is not. No file is offered.
		w.say("")
		w.say("%s The values above do not include the client secret: the app's existing secret was kept. For a new one, run setup again with --new-credential.", w.st.yellow("!"))
		return
	}
	w.say("")
	written := ""
	for {
		choice := "leave"
		title, desc := "Done?", ""
		leave := "Leave"
		if res.HasSecret() {
			title = "Leave? The client secret will not be shown again."
			desc = "Store the values now (for example, paste them into " + productName(res) + "), or write them to a file first."
			leave = "Leave: I have stored the values"
		}
		opts := []huh.Option[string]{huh.NewOption(leave, "leave")}
		if written == "" {
			opts = append(opts, huh.NewOption("Write the values to a file first (mode 0600)", "file"))
		}
		if err := w.choose(ctx, title, desc, opts, &choice); err != nil || choice == "leave" {
			return
		}
		path, err := w.writeValues(ctx, res)
		if err != nil {
			if !errors.Is(err, ErrCancelled) {
				w.say("%s %v", w.st.red("✗"), err)
			}
			continue
		}
		written = path
		w.say("%s Wrote %s (mode 0600). It holds the secret: delete it once %s has the values.", w.st.green("✓"), path, productName(res))
	}
}

// writeValues asks for a file name and writes the hand-over values there,
// in the product's own format, readable only by the user.
func (w *Wizard) writeValues(ctx context.Context, res *output.Result) (string, error) {
	var data bytes.Buffer
	if err := output.RenderHandover(&data, res); err != nil {
		return "", fmt.Errorf("rendering the values: %w", err)
	}
	name := res.Profile + "-values.txt"
	if res.HandoverFormat == "json" {
		name = res.Profile + "-connection.json"
	}
	validate := func(s string) error {
		s = expandHome(strings.TrimSpace(s))
		if s == "" {
			return errors.New("enter a file name")
		}
		if _, err := os.Lstat(s); err == nil {
			return fmt.Errorf("%s already exists; entra-link does not overwrite files holding secrets, choose another name", s)
		}
		return nil
	}
	if err := w.input(ctx, "File for the values", "Enter keeps the suggested name (edit it for another). Written with mode 0600: only you can read it.", "", &name, validate, completePath); err != nil {
		return "", err
	}
	path := expandHome(strings.TrimSpace(name))
	if err := securefile.WriteFile(path, data.Bytes(), false); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

func productName(r *output.Result) string {
	if r.Product != "" {
		return r.Product
	}
	return r.Profile
}
