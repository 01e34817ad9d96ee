package access_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"postern/access"
)

// kindInSource finds an event kind written in the code: a literal Kind, a
// kind assigned, or the door loop's ev("door.…").
var kindInSource = regexp.MustCompile(`(?:Kind:\s*|Kind = |ev\()"([a-z_]+\.[a-z_]+)"`)

// Every kind the code logs is in EventKinds, so the pages' words for
// EventKinds (a test in web) cover the whole log.
func TestEventKindsCoverTheCode(t *testing.T) {
	found := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_templ.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range kindInSource.FindAllStringSubmatch(string(b), -1) {
			found[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 20 {
		t.Fatalf("found only %d kinds in the code: the pattern no longer matches how events are written", len(found))
	}
	// Kinds built at run time: an emergency's start and end, and each
	// email's queued, sent and failed.
	for _, mode := range []string{"lockdown", "evacuation"} {
		found["site."+mode+"_started"], found["site."+mode+"_ended"] = "store/emergency.go", "store/emergency.go"
	}
	for _, mail := range []string{"invitation", "share", "test", "admin_invite", "admin_reset", "admin_two_factor_off"} {
		for _, s := range []string{"queued", "sent", "failed"} {
			found[mail+"."+s] = "store/outbox.go"
		}
	}
	for _, k := range access.WebhookKinds {
		found[k.Kind] = "access/notify.go"
	}
	for _, k := range access.AlarmKinds {
		if k.Kind != access.AlarmEmergency { // stands for the site.* kinds
			found[k.Kind] = "access/notify.go"
		}
	}
	for kind, path := range found {
		if !slices.Contains(access.EventKinds, kind) {
			t.Errorf("%s logs %q, which is not in access.EventKinds", path, kind)
		}
	}
	seen := map[string]bool{}
	for _, k := range access.EventKinds {
		if seen[k] {
			t.Errorf("%q is in EventKinds twice", k)
		}
		seen[k] = true
	}
}
