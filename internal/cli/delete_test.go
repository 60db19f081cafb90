package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestDeleteRemovesAppAndServicePrincipal: the app, its service principal,
// consents and directory roles are gone; the output says how to restore.
func TestDeleteRemovesAppAndServicePrincipal(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange")
	keep, _ := tt.setup(0, "--profile", "entitle")
	appID, objID := str(res, "clientId"), str(res, "applicationObjectId")
	sp := tt.state().spOf(appID)

	r := tt.day2(0, "delete", "--name", "hire2retire", "--yes", "--output", "json")
	j := decode(t, r.stdout)
	removed := j["removed"].(map[string]any)
	if j["deleted"] != true || removed["appRoleAssignments"] != 5.0 || removed["roleAssignments"] != 2.0 || removed["certificates"] != 1.0 {
		t.Errorf("result %v", j)
	}
	rb := j["recycleBin"].(map[string]any)
	if rb["retentionDays"] != 30.0 || rb["restoreRequest"] != "POST https://graph.microsoft.com/v1.0/directory/deletedItems/"+objID+"/restore" ||
		!strings.Contains(str(rb, "portal"), "Deleted applications") {
		t.Errorf("recycle bin %v", rb)
	}
	mustContain(t, "preview", r.stderr, `app registration "Hire2Retire"`, "5 application permission consents", "2 directory role assignments: Exchange Administrator, User Administrator")

	st := tt.state()
	for _, a := range st.Applications {
		if a.AppID == appID {
			t.Error("the app is still there")
		}
	}
	if st.spOf(appID) != "" || len(st.consented(sp)) != 0 || len(st.roles(sp)) != 0 {
		t.Errorf("left behind: sp %q consents %v roles %v", st.spOf(appID), st.consented(sp), st.roles(sp))
	}
	// What went with the service principal comes back with it: restore the
	// app, then the service principal, as the output says.
	if code := tt.admin(http.MethodPost, "/directory/deletedItems/"+objID+"/restore", nil); code != http.StatusOK {
		t.Fatalf("restore the app: %d", code)
	}
	if code := tt.admin(http.MethodPost, "/directory/deletedItems/"+sp+"/restore", nil); code != http.StatusOK {
		t.Fatalf("restore the service principal: %d", code)
	}
	if st := tt.state(); len(st.consented(sp)) != 5 || len(st.roles(sp)) != 2 {
		t.Errorf("after restoring: consents %v roles %v", st.consented(sp), st.roles(sp))
	}
	if str(rb, "restoreServicePrincipalRequest") != "POST https://graph.microsoft.com/v1.0/directory/deletedItems/"+sp+"/restore" {
		t.Errorf("recycle bin %v", rb)
	}

	// The other app is untouched.
	if st.spOf(str(keep, "clientId")) == "" || len(st.consented(st.spOf(str(keep, "clientId")))) != 2 {
		t.Error("delete touched another app")
	}

	// Text output tells how to undo it.
	tt.setup(0, "--profile", "roger365")
	r = tt.day2(0, "delete", "--name", "ROGER365.io Azure Entra replicator", "--yes")
	mustContain(t, "text", r.stdout, "✓ Deleted \"ROGER365.io Azure Entra replicator\"", "recycle bin for 30 days",
		"Deleted applications", "/directory/deletedItems/", "setup --profile roger365 --app-id")
}

// TestDeleteRefusesForeignApps: an app entra-link did not create is never
// found by --name; --app-id deletes it, saying so.
func TestDeleteRefusesForeignApps(t *testing.T) {
	tt := newTenant(t)
	foreign, _, err := tt.sb.CreatePrincipal(context.Background(), "Legacy sync", []string{"User.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := len(tt.sb.Requests())
	r := tt.day2(2, "delete", "--name", "Legacy sync", "--yes")
	mustContain(t, "stderr", r.stderr, "no app with this name was made by entra-link", "did not create exists (client ID "+foreign+")", "name it with --app-id")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("changed the tenant: %v", w)
	}
	r = tt.day2(0, "delete", "--app-id", foreign, "--yes")
	mustContain(t, "stderr", r.stderr, "was not made by entra-link", "deleted because --app-id names it")
	if tt.state().spOf(foreign) != "" {
		t.Error("the foreign app's service principal is still there")
	}
}

// TestDeleteConfirms: without --yes it asks on a terminal and refuses
// elsewhere; nothing changes unless the answer is yes.
func TestDeleteConfirms(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID := str(res, "clientId")
	before := len(tt.sb.Requests())
	r := tt.day2(2, "delete", "--app-id", appID)
	mustContain(t, "stderr", r.stderr, "This deletes from", `app registration "Entitle"`, "add --yes to delete")
	r = tt.runTTY("n\n", "delete", "--auth", "env", "--cloud", "global", "--app-id", appID)
	if r.code != 130 || !strings.Contains(r.stderr, `Delete "Entitle"? (y: Delete, n: Keep it) [y/N]`) {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	r = tt.runTTY("\n", "delete", "--auth", "env", "--cloud", "global", "--app-id", appID)
	if r.code != 130 {
		t.Errorf("the default answer must be no: exit %d", r.code)
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("changed the tenant without a yes: %v", w)
	}
	r = tt.runTTY("y\n", "delete", "--auth", "env", "--cloud", "global", "--app-id", appID)
	if r.code != 0 || tt.state().spOf(appID) != "" {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}

// TestDeleteBadInput: unknown and ambiguous apps are exit 2.
func TestDeleteBadInput(t *testing.T) {
	tt := newTenant(t)
	tt.setup(0, "--profile", "entitle")
	tt.setup(0, "--profile", "roger365", "--name", "Entitle")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--app-id", "00000000-1111-2222-3333-444444444444"}, "no application with this application (client) ID"},
		{[]string{"--name", "Unify Integration"}, "no app with this name was made by entra-link"},
		{[]string{"--name", "Entitle"}, "matches 2 apps made by entra-link"},
	} {
		before := len(tt.sb.Requests())
		r := tt.day2(2, append([]string{"delete", "--yes"}, tc.args...)...)
		mustContain(t, "stderr", r.stderr, tc.want)
		if w := tt.writes(before); len(w) != 0 {
			t.Errorf("%v changed the tenant: %v", tc.args, w)
		}
	}
}
