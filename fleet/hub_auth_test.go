package fleet

import (
	"crypto/tls"
	"net/url"
	"strconv"
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
	ctx := t.Context()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
	defer h.Close()
	u, _ := url.Parse("tls://" + h.Addr())
	u.User = url.UserPassword("r"+strconv.FormatInt(r.ID, 10), "reader-secret")
	leaf, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true, LeafNode: server.LeafNodeOpts{
		ReconnectInterval: 100 * time.Millisecond,
		Remotes:           []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, TLS: true, TLSConfig: &tls.Config{InsecureSkipVerify: true}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	go leaf.Start()
	defer leaf.Shutdown()
	leaf.ReadyForConnections(10 * time.Second)
	for start := time.Now(); leaf.NumLeafNodes() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the reader's leaf never connected")
		}
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
