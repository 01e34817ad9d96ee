package fleet

import (
	"crypto/tls"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"postern/store"
)

// TestAReaderCannotWriteThePolicy dials the hub as an enrolled reader
// would, then tries to publish a policy record and to purge the policy
// stream: both must leave the stream as it was.
func TestAReaderCannotWriteThePolicy(t *testing.T) {
	h, _, r := startAuthHub(t)
	leaf := dialLeaf(t, h.Addr(), "r"+strconv.FormatInt(r.ID, 10), "reader-secret", &tls.Config{InsecureSkipVerify: true})
	if !linked(leaf, 30*time.Second) {
		t.Fatal("the reader's leaf never connected")
	}
	nc, err := nats.Connect("", nats.InProcessServer(leaf))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	before := policyMsgs(t, h)
	nc.Publish(policyEntitySubject("user", "999"), []byte(`{"e":"user","k":"999","d":true}`))
	nc.Request("$JS."+HubDomain+".API.STREAM.PURGE."+policyStream, nil, time.Second)
	nc.Flush()
	time.Sleep(500 * time.Millisecond)
	if after := policyMsgs(t, h); after != before {
		t.Errorf("the policy stream went from %d to %d messages after a reader wrote to it", before, after)
	}
	// The reader may still read it.
	if _, err := nc.Request("$JS."+HubDomain+".API.STREAM.INFO."+policyStream, nil, 2*time.Second); err != nil {
		t.Errorf("a reader asking for the policy stream's info: %v", err)
	}
}

func policyMsgs(t *testing.T, h *Hub) uint64 {
	t.Helper()
	s, err := h.js.Stream(t.Context(), policyStream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

// dialLeaf runs a leaf-node server that dials the hub at addr as user.
func dialLeaf(t *testing.T, addr, user, pass string, tc *tls.Config) *server.Server {
	t.Helper()
	u, _ := url.Parse("tls://" + addr)
	u.User = url.UserPassword(user, pass)
	leaf, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true, LeafNode: server.LeafNodeOpts{
		ReconnectInterval: 100 * time.Millisecond,
		Remotes:           []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, TLS: true, TLSConfig: tc}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	go leaf.Start()
	t.Cleanup(leaf.Shutdown)
	leaf.ReadyForConnections(10 * time.Second)
	return leaf
}

// linked reports whether leaf has its link to the hub within limit.
func linked(leaf *server.Server, limit time.Duration) bool {
	for start := time.Now(); time.Since(start) < limit; time.Sleep(20 * time.Millisecond) {
		if leaf.NumLeafNodes() > 0 {
			return true
		}
	}
	return false
}

// startAuthHub is a hub with one enrolled reader, door1, whose secret is
// "reader-secret".
func startAuthHub(t *testing.T) (*Hub, *store.Store, store.FleetReader) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret := NewTokenSecret()
	r, err := st.CreateFleetReader(ctx, "test", "door1", secret, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnrolFleetReader(ctx, r.ID, secret, "reader-secret"); err != nil {
		t.Fatal(err)
	}
	h, err := StartHub(ctx, HubConfig{Store: st, Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, st, r
}

// TestTheHubAdmitsOnlyTheReadersItIssued dials the leaf listener with the
// credentials a reader holds, with wrong ones, and as a removed reader.
func TestTheHubAdmitsOnlyTheReadersItIssued(t *testing.T) {
	h, st, r := startAuthHub(t)
	user := "r" + strconv.FormatInt(r.ID, 10)
	pinned := pinnedTLS(h.Fingerprint())
	tests := []struct {
		name, user, pass string
		want             bool
	}{
		{"the secret issued at enrolment", user, "reader-secret", true},
		{"a wrong secret", user, "guessed", false},
		{"another reader's number", "r999", "reader-secret", false},
		{"the internal client's name", internalUser, "reader-secret", false},
		{"a spent enrolment token", "enrol-" + user, "reader-secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := 10 * time.Second
			if !tt.want {
				limit = 1500 * time.Millisecond
			}
			if got := linked(dialLeaf(t, h.Addr(), tt.user, tt.pass, pinned), limit); got != tt.want {
				t.Errorf("linked: got %v, want %v", got, tt.want)
			}
		})
	}

	// A reader removed on the Readers page is cut off, and stays off.
	leaf := dialLeaf(t, h.Addr(), user, "reader-secret", pinned)
	if !linked(leaf, 10*time.Second) {
		t.Fatal("the reader never connected")
	}
	if err := st.DeleteFleetReader(t.Context(), "test", r.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for leaf.NumLeafNodes() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("a removed reader is still connected after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if linked(leaf, 1500*time.Millisecond) {
		t.Error("a removed reader connected again")
	}
}

// TestAReaderTalksOnlyToThePinnedHub dials the hub as a reader enrolled
// with another hub's key would: the link must not come up.
func TestAReaderTalksOnlyToThePinnedHub(t *testing.T) {
	h, _, r := startAuthHub(t)
	user := "r" + strconv.FormatInt(r.ID, 10)
	other := strings.Repeat("ab", 32)
	if linked(dialLeaf(t, h.Addr(), user, "reader-secret", pinnedTLS(other)), 1500*time.Millisecond) {
		t.Error("a reader pinned to another key linked to this hub")
	}
	if !linked(dialLeaf(t, h.Addr(), user, "reader-secret", pinnedTLS(h.Fingerprint())), 10*time.Second) {
		t.Error("a reader pinned to this hub's key did not link")
	}
}

// TestTheHubKnowsEachReadersNewestConnection: each time a reader's link
// comes back the hub sees a newer connection (what restarts its event
// source), and forgets the connections that are gone.
func TestTheHubKnowsEachReadersNewestConnection(t *testing.T) {
	h, _, r := startAuthHub(t)
	user := "r" + strconv.FormatInt(r.ID, 10)
	var last uint64
	for i := range 3 {
		leaf := dialLeaf(t, h.Addr(), user, "reader-secret", pinnedTLS(h.Fingerprint()))
		if !linked(leaf, 10*time.Second) {
			t.Fatalf("link %d never came up", i)
		}
		conn := h.auth.latestConn(r.ID)
		if conn <= last {
			t.Errorf("link %d: newest connection %d, want one after %d", i, conn, last)
		}
		last = conn
		if i < 2 {
			leaf.Shutdown()
			leaf.WaitForShutdown()
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conns := h.auth.connsOf(r.ID)
		if len(conns) == 1 && conns[0] == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections kept: %v, want only the live one, %d", conns, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
