package fleet_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"postern/access"
	"postern/fleet"
	"postern/store"
)

// execOn changes a reader's database behind its back, as nothing in
// Postern does: what the reader decides from must not notice.
func execOn(t testing.TB, r *reader, q string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(r.data, store.FileName)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// TestReaderDecidesFromMemory proves a reader's decisions read no table:
// rows changed under it change nothing, while a change from the hub,
// applied to its copy, reaches the decisions.
func TestReaderDecidesFromMemory(t *testing.T) {
	s := startSite(t)
	r := s.startReader(t, s.addReader(t, "door1"))

	execOn(t, r, `UPDATE credentials SET status = 'revoked'; DELETE FROM permissions; UPDATE users SET enabled = 0`)
	if d := r.decide(t, s.cred, s.front); !d.Granted {
		t.Fatalf("Ann after her rows changed under the reader: got %v, want granted from memory", d.Reason)
	}

	if err := s.st.RevokeCredential(t.Context(), "test", s.cred); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the hub's revocation reaches the decisions", func() bool {
		return r.decide(t, s.cred, s.front).Reason == access.ReasonCredentialNotActive
	})
}

// TestReaderDecidesWithItsCopyAfterARestart starts a reader offline on
// the copy a previous run left: it decides at once, from memory.
func TestReaderDecidesWithItsCopyAfterARestart(t *testing.T) {
	s := startSite(t)
	r := s.startReader(t, s.addReader(t, "door1"))
	r.proxy.Cut()
	r.node.Close()
	var err error
	r.node, err = startNodeOn(t, r)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.node.Synced():
	default:
		t.Fatal("a reader with a copy of the policy is not ready at start")
	}
	if d := r.decide(t, s.cred, s.front); !d.Granted {
		t.Errorf("Ann at a reader restarted offline: got %v, want granted", d.Reason)
	}
}

// BenchmarkReaderPresentationInputs is what a remote reader reads for a
// decision: from memory, with no query.
func BenchmarkReaderPresentationInputs(b *testing.B) {
	s := startSite(b)
	r := s.startReader(b, s.addReader(b, "door1"))
	st := r.node.Store()
	ap, err := st.AccessPointByID(b.Context(), s.front.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		in, err := st.PresentationInputs(b.Context(), s.cred, ap)
		if err != nil || len(in.Grants) != 1 {
			b.Fatal(err, in.Grants)
		}
	}
}

// startNodeOn starts r's node again on its files, enrolled already.
func startNodeOn(t testing.TB, r *reader) (*fleet.Node, error) {
	t.Helper()
	n, err := fleet.StartNode(t.Context(), fleet.NodeConfig{Store: r.st, Dir: r.dir, Hub: r.proxy.Addr(), Log: testLog(t)})
	if err == nil {
		t.Cleanup(n.Close)
	}
	return n, err
}
