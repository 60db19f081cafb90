package graph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResponsesAreNotParsedByKiota guards the binary size (see the package
// doc): any use of kiota's response parsing or the models' parse functions
// links every model type, ~36 MB.
func TestResponsesAreNotParsedByKiota(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{
		"FromDiscriminatorValue",                     // models' parse functions
		"GetObjectValue",                             // kiota parse nodes
		"NewJsonParseNode",                           // kiota JSON parser
		"adapter.Send",                               // kiota's send-and-parse path
		`"github.com/microsoftgraph/msgraph-sdk-go"`, // the root package
		"msgraph-sdk-go/users",                       // 185k lines for /me
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, bad := range forbidden {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", f, bad)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d source files found; is the test running in the package directory?", checked)
	}
}
