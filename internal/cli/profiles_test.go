package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestProfilesList(t *testing.T) {
	r := run(t, "profiles", "list")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	golden(t, "profiles/list.txt", r.stdout)

	r = run(t, "profiles", "list", "--output", "json")
	var rows []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, row := range rows {
		if row["product"] == "" || row["description"] == "" {
			t.Errorf("incomplete row %v", row)
		}
		ids = append(ids, row["id"])
	}
	if strings.Join(ids, ",") != "relution,hire2retire,entitle,unify,roger365" {
		t.Errorf("ids %v", ids)
	}

	r = run(t, "profiles", "list", "--profile-file", "testdata/acme.yaml")
	mustContain(t, "list with file", r.stdout, "acme-hr", "ACME HR", "[testdata/acme.yaml]")
}

func TestProfilesShow(t *testing.T) {
	for _, id := range []string{"relution", "hire2retire", "entitle", "unify", "roger365"} {
		t.Run(id, func(t *testing.T) {
			r := run(t, "profiles", "show", id)
			if r.code != 0 {
				t.Fatal(r.stderr)
			}
			golden(t, "profiles/show-"+id+".txt", r.stdout)
			r = run(t, "profiles", "show", id, "-o", "json")
			var v profileView
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatal(err)
			}
			if v.ID != id || len(v.Permissions) == 0 || len(v.Handover.Fields) == 0 {
				t.Errorf("json view %+v", v)
			}
			for _, p := range v.Permissions {
				if p.ID == "" || p.Description == "" || p.ResourceAppID == "" {
					t.Errorf("permission without id/description: %+v", p)
				}
			}
		})
	}
	r := run(t, "profiles", "show", "hire2retire")
	mustContain(t, "hire2retire", r.stdout,
		"User.EnableDisableAccount.All", "User Administrator — Can manage all aspects of users and groups",
		"--with exchange", "Office 365 Exchange Online · application · Exchange.ManageAsApp", "adds directory role Exchange Administrator",
		"--certificate-file")
	r = run(t, "profiles", "show", "--profile-file", "testdata/acme.yaml")
	mustContain(t, "file", r.stdout, "profile file testdata/acme.yaml", "--input portal-url=…")
}

func TestVersion(t *testing.T) {
	r := run(t, "version")
	mustContain(t, "version", r.stdout, "entra-link ", "commit ", "go1.")
	r = run(t, "version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["goVersion"] == "" || v["version"] == "" {
		t.Errorf("version json %q: %v", r.stdout, err)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := run(t, "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "entra-link") {
			t.Errorf("completion %s: exit %d, %d bytes", sh, r.code, len(r.stdout))
		}
	}
	// Flag value completion goes through cobra's hidden __complete command.
	r := run(t, "__complete", "setup", "--profile", "")
	mustContain(t, "profile completion", r.stdout, "relution", "hire2retire", "entitle", "unify", "roger365")
	r = run(t, "__complete", "setup", "--cloud", "")
	mustContain(t, "cloud completion", r.stdout, "global", "usgov", "usgov-dod", "china")
	r = run(t, "__complete", "setup", "--profile", "hire2retire", "--with", "")
	mustContain(t, "feature completion", r.stdout, "exchange")
}

// TestHelp snapshots every command's help: each must teach by example.
func TestHelp(t *testing.T) {
	f, _ := testFactory(nil)
	root := NewRootCmd(f)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		path := c.CommandPath()
		t.Run(path, func(t *testing.T) {
			r := run(t, append(strings.Fields(path)[1:], "--help")...)
			if r.code != 0 {
				t.Fatalf("exit %d", r.code)
			}
			if c.Runnable() && c.Parent() != nil && c.Parent().Name() != "completion" && !strings.Contains(r.stdout, "Examples:") {
				t.Errorf("%s --help has no examples", path)
			}
			golden(t, "help/"+strings.ReplaceAll(path, " ", "_")+".txt", r.stdout)
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
