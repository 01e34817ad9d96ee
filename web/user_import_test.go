package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"postern/store"
)

// upload posts a CSV to the import form as the signed-in browser and
// returns the import's page path.
func (env *env) upload(t *testing.T, name, body string, invite bool) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_csrf", env.csrf)
	if invite {
		mw.WriteField("invite", "on")
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(body))
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/users/import", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Origin", origin)
	r.AddCookie(env.session)
	w := env.serve(r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("upload: got status %d, want 303\n%s", w.Code, w.Body)
	}
	return w.Header().Get("Location")
}

// waitImport waits for an import to finish, failing after ten minutes.
func (env *env) waitImport(t *testing.T, page string) store.ImportJob {
	t.Helper()
	id := strings.TrimPrefix(page, "/users/import/")
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) { // a failure guard: slow under -race on a busy machine
		job, err := env.s.ImportByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status == "done" {
			return job
		}
	}
	t.Fatalf("import %s did not finish", id)
	return store.ImportJob{}
}

func TestUserImport(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.create(t, "users", `{"first_name":"Ann","last_name":"Old","email":"ann@example.com","enabled":false}`)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	csv := "\ufeffFirst Name,Last Name,Email,Groups,Valid From,Valid Until,Notes\n" +
		"Ann,Lee,ANN@example.com,staff; Night shift,2026-01-01,2026-12-31,updates Ann\n" +
		"Bob,Ray,bob@example.com,Staff,,,new\n" +
		"Cara,Diaz,not-an-email,,,,refused\n" +
		"Bobby,Ray,bob@example.com,,,,the same email again\n" +
		"Dev,Kay,dev@example.com,,31/12/2026,,a bad date\n" +
		"\n" +
		"Eli,,,,,,no email: created\n"
	page := env.upload(t, "staff.csv", csv, true)

	env.runPages(t, []scenario{
		{name: "the preview counts each plan", method: "GET", url: page, wantStatus: 200,
			wantTestIDs: map[string]string{"plan-create": "2", "plan-update": "1", "plan-refuse": "3", "import-run": "Import 3 users", "import-invites": ""}},
		{name: "the preview says why each refused line is", method: "GET", url: page, wantStatus: 200,
			wantContains: []string{"email", "the same person as line 3", "valid_from: is not a date"}},
	})
	if n, _ := env.s.CountUsers(t.Context()); n != 1 {
		t.Fatalf("the preview changed users: got %d, want 1", n)
	}
	if w := env.post(page+"/run", nil); w.Code != 303 {
		t.Fatalf("run: got %d\n%s", w.Code, w.Body)
	}
	job := env.waitImport(t, page)
	if job.Created != 2 || job.Updated != 1 || job.Refused != 3 || job.Invited != 2 {
		t.Errorf("got %+v, want 2 created, 1 updated, 3 refused, 2 invited (Ann and Bob; Eli has no email)", job)
	}
	anns, err := env.s.UsersByEmail(t.Context(), "ann@example.com")
	if err != nil || len(anns) != 1 {
		t.Fatalf("got %+v, %v; want one Ann", anns, err)
	}
	ann := anns[0]
	if ann.LastName != "Lee" || ann.Enabled || ann.ValidUntil.Format(time.DateOnly) != "2027-01-01" {
		t.Errorf("Ann: got %+v, want renamed, still disabled, valid to the end of 2026-12-31", ann)
	}
	groups, _ := env.s.UserGroups(t.Context(), ann.ID)
	if len(groups) != 2 || groups[1].ID != staff {
		t.Errorf("Ann's groups: got %+v, want Night shift (created) and Staff", groups)
	}
	items, _, err := env.s.Outbox(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var due []time.Time
	for _, it := range items {
		if it.Kind == "invitation" {
			due = append(due, it.NextAttempt)
		}
	}
	if len(due) != 2 || due[0].Sub(due[1]).Abs() != time.Second {
		t.Errorf("invitations due at %v, want two, a second apart", due)
	}
	env.runPages(t, []scenario{
		{name: "the page sums up the run", method: "GET", url: page, wantStatus: 200,
			wantTestIDs: map[string]string{"import-summary": "2 created, 1 updated, 3 refused, 2 invited"}},
		{name: "running it again does nothing", method: "POST", url: page + "/run", wantStatus: 303},
		{name: "an unknown import", method: "GET", url: "/users/import/000000000000000000000000", wantStatus: 404},
		{name: "not CSV with a header", method: "GET", url: "/users/import", wantStatus: 200, wantTestIDs: map[string]string{"import-form": ""}},
	})
	if n, _ := env.s.CountUsers(t.Context()); n != 3 {
		t.Errorf("users after the import and a second run: got %d, want 3", n)
	}
	// Missing header: refused with a reason before any preview.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_csrf", env.csrf)
	fw, _ := mw.CreateFormFile("file", "x.csv")
	fw.Write([]byte("Ann,Lee\n"))
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/users/import", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Origin", origin)
	r.AddCookie(env.session)
	if w := env.serve(r); w.Code != 422 || !strings.Contains(w.Body.String(), "must name the columns") {
		t.Errorf("a file without a header: got %d\n%s", w.Code, w.Body)
	}
}

// TestUserImport10000 imports 10,000 users, reloads the page and posts the
// run again while it runs, reads the progress stream, and finds every
// user exactly once.
func TestUserImport10000(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 10,000 users")
	}
	t.Parallel()
	env := newLoggedInEnv(t)
	const n = 10_000
	var csv strings.Builder
	csv.WriteString("first_name,last_name,email,groups\n")
	for i := range n {
		fmt.Fprintf(&csv, "First%d,Last%d,user%d@example.com,Team %d\n", i, i, i, i%10)
	}
	page := env.upload(t, "big.csv", csv.String(), false)
	w := env.get(page)
	if !strings.Contains(w.Body.String(), `data-testid="plan-create">10000<`) {
		t.Fatalf("preview: want 10000 to create\n%s", w.Body)
	}
	if w := env.post(page+"/run", nil); w.Code != 303 {
		t.Fatalf("run: got %d", w.Code)
	}

	// The progress stream, read as the browser does.
	progress := make(chan []int, 1)
	// It ends when the import is done; the recorder keeps every message.
	go func() {
		r := httptest.NewRequest(http.MethodGet, page+"/progress", nil)
		r.AddCookie(env.session)
		w := env.serve(r)
		var seen []int
		sc := bufio.NewScanner(w.Body)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), `data-done="`); i >= 0 {
				s := sc.Text()[i+len(`data-done="`):]
				d, _ := strconv.Atoi(s[:strings.IndexByte(s, '"')])
				seen = append(seen, d)
			}
		}
		progress <- seen
	}()

	// A reload mid-run: the page again, and the form posted again.
	reloaded := false
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		job, err := env.s.ImportByID(t.Context(), strings.TrimPrefix(page, "/users/import/"))
		if err != nil {
			t.Fatal(err)
		}
		if job.Done > 0 && job.Status == "running" {
			if w := env.get(page); w.Code != 200 || !strings.Contains(w.Body.String(), `data-testid="import-progress"`) {
				t.Fatalf("reload: got %d\n%s", w.Code, w.Body)
			}
			if w := env.post(page+"/run", url.Values{}); w.Code != 303 {
				t.Fatalf("run again: got %d", w.Code)
			}
			reloaded = true
			break
		}
		if job.Status == "done" {
			break
		}
	}
	if !reloaded {
		t.Error("the import finished before the reload could be made mid-run")
	}
	job := env.waitImport(t, page)
	if job.Created != n || job.Done != n || job.Refused != 0 {
		t.Errorf("got %+v, want %d created", job, n)
	}
	if got, _ := env.s.CountUsers(t.Context()); got != n {
		t.Errorf("got %d users, want %d: no duplicates", got, n)
	}
	seen := <-progress
	if len(seen) < 2 || seen[len(seen)-1] != n {
		t.Errorf("progress: got %v, want rising to %d", seen, n)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("progress went back: %v", seen)
			break
		}
	}
}
